import Foundation
import TGSupport

/// One chunk of a stage whose chunk output is one file written whole (the
/// co-occurrence stage's SQLite partial matrix), as `StageChunkRun` is for
/// stages that write a record per item. It owns the same things: the
/// chunk's file under `RUN/<stage>/`, one worker per chunk, the
/// fingerprint (inputs, configuration), recognising a finished chunk, the
/// choice of the chunk's items, progress and the sealed completion marker.
/// A chunk is all or nothing: its file is written under a temporary name
/// and renamed, then marked done; a killed worker simply redoes it.
///
///     let chunkRun = try WholeFileChunkRun(stage: "cooccur", suffix: ".sqlite", run: run, inputs: inputs,
///                                          configuration: configuration, chunk: chunk, strategy: strategy)
///     guard !chunkRun.isComplete else { return }
///     chunkRun.choose(among: ids, progressLabel: label, quiet: quiet)
///     ... the work, calling chunkRun.advance() per item ...
///     try chunkRun.finish(summary: summary.json) { partialPath in write the file there }
public final class WholeFileChunkRun {
    public let stage: String
    public let chunk: Chunk
    public let strategy: ChunkStrategy
    /// The chunk's finished file.
    public let output: String
    public let fingerprint: JSONValue
    private let configuration: [(String, JSONValue)]
    private let marker: String
    /// Held while the chunk runs: released when the run is let go.
    private let lock: ChunkLock
    /// This chunk's items, once chosen.
    public private(set) var mine: Set<String> = []
    private var progress: Progress?

    public init(stage: String, suffix: String, run: RunFolder, inputs: [String], configuration: [(String, JSONValue)],
                chunk: Chunk, strategy: ChunkStrategy) throws {
        let directory = run.chunkDirectory(stage)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.stage = stage
        self.chunk = chunk
        self.strategy = strategy
        self.configuration = configuration
        output = directory + "/" + chunk.name + suffix
        marker = directory + "/" + chunk.name + ".done"
        fingerprint = .object([("inputs", .array(inputs.map { .string($0) })), ("configuration", .object(configuration))])
        // One worker per chunk: a second one started on it is refused.
        lock = try ChunkLock(path: output)
    }

    /// The chunk finished earlier on the same inputs and configuration.
    /// Otherwise an old marker is removed, so a chunk redone on other
    /// inputs is never taken for finished if this run dies.
    public var isComplete: Bool {
        if FileManager.default.fileExists(atPath: output), let data = FileManager.default.contents(atPath: marker),
           let done = try? JSONValue.parse([UInt8](data)), done["fingerprint"] == fingerprint {
            return true
        }
        try? FileManager.default.removeItem(atPath: marker)
        return false
    }

    /// Chooses this chunk's items among `ids` (every chunk sees the same
    /// list in the same order) and starts the progress line.
    public func choose(among ids: [String], progressLabel: String, quiet: Bool) {
        mine = Set(strategy.select(ids, chunk: chunk).map { ids[$0] })
        progress = Progress(label: progressLabel, total: mine.count, quiet: quiet)
    }

    public func owns(_ id: String) -> Bool { mine.contains(id) }

    /// One more of the chunk's items done.
    public func advance() { progress?.advance() }

    /// Writes the chunk's file through `write` (given a temporary path in
    /// the same folder), renames it into place and seals it with its
    /// marker (configuration, fingerprint, summary, size and SHA-256).
    public func finish(summary: JSONValue, write: (String) throws -> Void) throws {
        if let progress { progress.advance(by: mine.count - progress.done) }
        let directory = (output as NSString).deletingLastPathComponent
        Debris.sweep(directory)
        let partial = output + ".partial-\(Debris.tag)"
        try? FileManager.default.removeItem(atPath: partial)
        try write(partial)
        try? FileManager.default.removeItem(atPath: output)
        try FileManager.default.moveItem(atPath: partial, toPath: output)
        let done = try JSONLinesWriter(path: marker)
        try done.writeLine(.object([("finished", .string(RunManifest.now())), ("configuration", .object(configuration)),
                                    ("fingerprint", fingerprint), ("summary", summary)] + ChunkMerge.seal(of: output)))
        try done.commit()
        progress?.report(final: true)
    }
}
