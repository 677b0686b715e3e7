import Foundation
import TGSupport

/// One chunk of a chunked stage, as every stage runs it: the chunk's
/// output file under `RUN/<stage>/`, its fingerprint (the checksums of
/// the inputs, the configuration and the chunk), resume (records already
/// written are not made again; a finished chunk is not run again), the
/// choice of this chunk's items, progress, checkpoints and the completion
/// marker. A stage's own code is then its work per item:
///
///     let chunkRun = try StageChunkRun(stage: "extract", run: run, inputs: inputs, configuration: configuration,
///                                      chunk: chunk, strategy: strategy, saveEvery: saveEvery)
///     guard !chunkRun.isComplete else { return resumed summary }
///     chunkRun.choose(among: ids, progressLabel: label, quiet: quiet)
///     for item in items where chunkRun.owns(item.id) {
///         try chunkRun.produce(item.id) { record for item }
///     }
///     try chunkRun.finish(configuration: configuration, summary: summary.json)
///
/// Merging the chunks (`ChunkMerge`) checks what `finish` sealed.
public final class StageChunkRun {
    public let stage: String
    public let chunk: Chunk
    public let strategy: ChunkStrategy
    public let writer: ChunkWriter
    public let fingerprint: String
    /// This chunk's items, once chosen.
    public private(set) var mine: Set<String> = []
    /// Items found already written (a resumed chunk).
    public private(set) var resumed = 0
    private var progress: Progress?

    /// Opens (or resumes) the chunk's output. `inputs` are the checksums of
    /// the files the stage reads; with the configuration and the chunk they
    /// make the fingerprint, and a chunk written under another one is
    /// refused rather than resumed.
    public init(stage: String, run: RunFolder, inputs: [String], configuration: [(String, JSONValue)], chunk: Chunk,
                strategy: ChunkStrategy, saveEvery: Int) throws {
        try FileManager.default.createDirectory(atPath: run.chunkDirectory(stage), withIntermediateDirectories: true)
        self.stage = stage
        self.chunk = chunk
        self.strategy = strategy
        fingerprint = Self.fingerprint(inputs: inputs, configuration: configuration, chunk: chunk)
        writer = try ChunkWriter(path: run.chunkFile(stage, chunk), saveEvery: saveEvery, fingerprint: fingerprint)
    }

    /// What a chunk's output is made from: refused on resume if it differs.
    public static func fingerprint(inputs: [String], configuration: [(String, JSONValue)], chunk: Chunk) -> String {
        JSONValue.object([("inputs", .array(inputs.map { .string($0) })), ("configuration", .object(configuration)),
                          ("chunk", .string(chunk.name))]).jsonText
    }

    /// The chunk finished in an earlier run: nothing to do.
    public var isComplete: Bool { writer.isComplete }

    /// Chooses this chunk's items among `ids` (every chunk sees the same
    /// list in the same order) and starts the progress line.
    public func choose(among ids: [String], progressLabel: String, quiet: Bool) {
        mine = Set(strategy.select(ids, chunk: chunk).map { ids[$0] })
        let progress = Progress(label: progressLabel, total: mine.count, quiet: quiet)
        progress.advance(by: 0)
        self.progress = progress
    }

    public func owns(_ id: String) -> Bool { mine.contains(id) }

    /// Whether `id`'s record is written already (by an earlier run of the
    /// chunk, or now).
    public func isWritten(_ id: String) -> Bool { writer.contains(id) }

    /// Makes and writes `id`'s record, unless an earlier run wrote it
    /// (then counted as resumed). `make` may return nil: nothing is
    /// written for the item, and it counts as done.
    /// Returns whether `make` ran.
    @discardableResult
    public func produce(_ id: String, _ make: () throws -> JSONValue?) throws -> Bool {
        if writer.contains(id) {
            resumed += 1
            progress?.advance()
            return false
        }
        if let record = try make() { try writer.write(record, id: id) }
        progress?.advance()
        return true
    }

    /// Writes a record made elsewhere (an answer that came back from a
    /// concurrent request) and advances the progress.
    public func write(_ record: JSONValue, id: String) throws {
        try writer.write(record, id: id)
        progress?.advance()
    }

    /// Counts an item found written without producing it.
    public func skipWritten() {
        resumed += 1
        progress?.advance()
    }

    /// Seals the chunk: its records, the configuration and the stage's
    /// summary go to the completion marker.
    public func finish(configuration: [(String, JSONValue)], summary: JSONValue) throws {
        try writer.finish(extra: [("configuration", .object(configuration)), ("summary", summary)])
        progress?.report(final: true)
    }
}
