import TGSupport

/// Finds chains that are near copies of another chain, of the same sample
/// or another: word 5-gram shingles, a 32-hash MinHash signature per
/// chain and banded locality-sensitive hashing (8 bands of 4) to find
/// candidates, then the signatures' agreement as the Jaccard estimate.
///
/// A model asked three times often answers three times alike, and a small
/// model writes one chain for many samples; curators want to know before
/// they train on them. Marked, not removed: of a group, the chain of the
/// smallest name is the original. Memory: 128 bytes a chain plus the band
/// index.
public struct NearDuplicates: Sendable {
    public static let hashes = 32, bands = 8
    static let rows = hashes / bands

    /// Least estimated Jaccard similarity of shingles to mark a chain.
    public var threshold: Double

    private var signatures: [[UInt32]] = []
    private var names: [String] = []
    private var tasks: [String] = []
    private var buckets: [UInt64: [Int32]] = [:]

    public init(threshold: Double = 0.8) { self.threshold = threshold }

    /// The chain's MinHash signature (nil for a chain of fewer than 5 words).
    static func signature(_ text: String) -> [UInt32]? {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        guard words.count >= 5 else { return nil }
        var minimum = [UInt32](repeating: .max, count: hashes)
        for start in 0...(words.count - 5) {
            let shingle = StableHash.of(words[start..<(start + 5)].joined(separator: " "))
            for index in 0..<hashes {
                // A family of hash functions: the shingle's hash remixed with each index.
                var generator = SplitMix64(seed: shingle &+ UInt64(index) &* 0xD6E8_FEB8_6659_FD93)
                let value = UInt32(truncatingIfNeeded: generator.next() >> 32)
                if value < minimum[index] { minimum[index] = value }
            }
        }
        return minimum
    }

    /// Records `text` as chain `name` (of a sample of `task`).
    public mutating func add(_ text: String, name: String, task: String) {
        guard let signature = Self.signature(text) else { return }
        let index = Int32(signatures.count)
        signatures.append(signature)
        names.append(name)
        tasks.append(task)
        for key in Self.bandKeys(signature) { buckets[key, default: []].append(index) }
    }

    static func bandKeys(_ signature: [UInt32]) -> [UInt64] {
        (0..<bands).map { band in
            var key = UInt64(band)
            for row in 0..<rows {
                var generator = SplitMix64(seed: key &* 31 &+ UInt64(signature[band * rows + row]))
                key = generator.next()
            }
            return key
        }
    }

    /// A chain marked as a near copy: the chain it copies and how alike.
    public struct Mark: Sendable, Equatable {
        public var of: String
        public var similarity: Double
        public var task: String
    }

    /// Every chain that nearly copies a chain of a smaller name (`ID#INDEX`
    /// in string order), with the smallest such: the same marks whatever
    /// order the chains came in (a run merged from other chunks).
    public func marks() -> [String: Mark] {
        var marks: [String: Mark] = [:]
        for (index, signature) in signatures.enumerated() {
            var best: (name: String, similarity: Double)?
            var seen = Set<Int32>()
            for key in Self.bandKeys(signature) {
                for candidate in buckets[key] ?? [] where candidate != Int32(index) && seen.insert(candidate).inserted {
                    let name = names[Int(candidate)]
                    guard name < names[index] else { continue }
                    let agree = zip(signature, signatures[Int(candidate)]).filter { $0 == $1 }.count
                    let similarity = Double(agree) / Double(Self.hashes)
                    if similarity >= threshold, best.map({ name < $0.name }) ?? true { best = (name, similarity) }
                }
            }
            if let best { marks[names[index]] = Mark(of: best.name, similarity: best.similarity, task: tasks[index]) }
        }
        return marks
    }
}
