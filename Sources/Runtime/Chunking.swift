import TGSupport

/// Which part of a stage's items one worker handles.
///
/// Workers are started as `--chunk-num N --chunk-idx I` from a shell loop,
/// or as a Slurm job array, where both default to `SLURM_ARRAY_TASK_COUNT`
/// and `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN`.
public struct Chunk: Equatable, Sendable, CustomStringConvertible {
    public var count: Int
    public var index: Int

    public init(count: Int, index: Int) throws {
        guard count >= 1 else { throw UsageError("--chunk-num must be at least 1, got \(count)") }
        guard (0..<count).contains(index) else {
            throw UsageError("--chunk-idx must be in 0..<\(count), got \(index)")
        }
        self.count = count
        self.index = index
    }

    /// The whole input as one chunk.
    public static let whole = try! Chunk(count: 1, index: 0)

    /// Resolves the options against the Slurm array variables: an option
    /// given wins; otherwise `SLURM_ARRAY_TASK_COUNT` and
    /// `SLURM_ARRAY_TASK_ID` (offset by `SLURM_ARRAY_TASK_MIN`, since arrays
    /// may start at 1); otherwise the whole input.
    public static func resolve(count: Int?, index: Int?, environment: [String: String]) throws -> Chunk {
        func variable(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text) else { throw UsageError("\(name)=\(text) is not a number") }
            return value
        }
        let slurmCount = try variable("SLURM_ARRAY_TASK_COUNT")
        let slurmIndex = try variable("SLURM_ARRAY_TASK_ID").map { $0 - (try variable("SLURM_ARRAY_TASK_MIN") ?? 0) }
        let resolvedCount = count ?? slurmCount ?? 1
        let resolvedIndex = index ?? (count == nil ? slurmIndex : nil) ?? 0
        return try Chunk(count: resolvedCount, index: resolvedIndex)
    }

    /// `chunk-0003-of-0010`: sorts in index order, names its chunk count.
    public var name: String {
        func pad(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, 4 - text.count)) + text
        }
        return "chunk-\(pad(index))-of-\(pad(count))"
    }

    public var description: String { "\(index + 1)/\(count)" }
}

/// How items are dealt to chunks. Both are deterministic.
///
/// - `hash`: an item goes to chunk `StableHash(id) mod N`. Adding items
///   never moves the others, so a grown input re-runs only what is new.
///   The default.
/// - `shuffle`: the shape of EHR-R1's evidence chunking: the item list (in
///   input order) is shuffled with a seeded generator and cut into N
///   contiguous chunks of near-equal size (our generator, so not the
///   reference's chunks). Equal sizes, but adding an item moves others.
public enum ChunkStrategy: Equatable, Sendable {
    case hash
    case shuffle(seed: UInt64)

    /// The positions (in input order) of the items of `chunk`, given all
    /// item ids in input order.
    public func select(_ ids: [String], chunk: Chunk) -> Set<Int> {
        switch self {
        case .hash:
            return Set(ids.indices.filter { Int(StableHash.of(ids[$0]) % UInt64(chunk.count)) == chunk.index })
        case .shuffle(let seed):
            var order = Array(ids.indices)
            var generator = SplitMix64(seed: seed)
            if order.count > 1 {
                for position in stride(from: order.count - 1, to: 0, by: -1) {
                    let other = Int(generator.next() % UInt64(position + 1))
                    order.swapAt(position, other)
                }
            }
            // Contiguous cuts: the first (count mod N) chunks get one more.
            let base = order.count / chunk.count, extra = order.count % chunk.count
            let start = chunk.index * base + min(chunk.index, extra)
            let size = base + (chunk.index < extra ? 1 : 0)
            return Set(order[start..<(start + size)])
        }
    }

    /// Whether one item belongs to the chunk without knowing the others
    /// (hash strategy only).
    public func contains(_ id: String, chunk: Chunk) -> Bool? {
        guard case .hash = self else { return nil }
        return Int(StableHash.of(id) % UInt64(chunk.count)) == chunk.index
    }
}
