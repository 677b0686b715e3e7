import Foundation
import TGSupport

/// The files of a run folder, and the checks a stage makes before it runs.
///
///     RUN/run.json             manifest (stages, inputs with checksums, counts)
///     RUN/patients.jsonl       timelines (import)
///     RUN/samples.jsonl        sample index (samples)
///     RUN/STAGE/chunk-IIII-of-NNNN.jsonl (+ .done, .lock)   a chunked stage's workers
///     RUN/STAGE.jsonl          the stage's merged output (STAGE merge)
///
/// A compact run (`import --compact`, for cohorts of MIMIC-IV's size) keeps
/// the timelines, the samples and the extract and evidence records gzipped
/// (`.jsonl.gz`, gzip members of whole lines that stages still read by
/// record), and a merge removes the chunk files it took (their markers
/// stay). The files keep their names in `run.json`; only their paths
/// gain `.gz`.
public struct RunFolder: Sendable {
    public let path: String
    /// The run keeps its large files gzipped (its timelines are).
    public let isCompact: Bool

    public init(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("\(path): no run folder (create one with `thinkgraph import ... --run \(path)`)")
        }
        self.path = path
        isCompact = FileManager.default.fileExists(atPath: path + "/" + RunFile.patients.name + ".gz")
    }

    /// The stages whose records a compact run gzips (the large ones).
    public static let compressedStages: Set<String> = ["extract", "evidence"]

    public var patients: String { path(of: .patients) }
    public var samples: String { path(of: .samples) }
    public func chunkDirectory(_ stage: String) -> String { path + "/" + stage }
    public func merged(_ stage: String) -> String { path + "/" + stage + chunkSuffix(stage) }
    public func chunkFile(_ stage: String, _ chunk: Chunk) -> String { chunkDirectory(stage) + "/" + chunk.name + chunkSuffix(stage) }

    /// What a chunked stage's files end in: `.jsonl`, or `.jsonl.gz` for
    /// the large stages of a compact run (cooccur's `.sqlite` aside).
    public func chunkSuffix(_ stage: String) -> String {
        if stage == "cooccur" { return ".sqlite" }
        return isCompact && Self.compressedStages.contains(stage) ? ".jsonl.gz" : ".jsonl"
    }

    /// The path of a run file (gzipped in a compact run when it is large).
    public func path(of file: RunFile) -> String { path + "/" + file.name + (isCompact && file.compressible ? ".gz" : "") }

    /// The path of the file `run.json` names `name`.
    public func path(ofNamed name: String) -> String { RunFile.named(name).map { path(of: $0) } ?? path + "/" + name }

    /// Verifies every input of `stage` (`verify`), in the order the stage
    /// lists them; returns their checksums.
    public func verifyInputs(of stage: PipelineStage, force: Bool) throws -> [String] {
        try stage.inputs.map { try verify($0, force: force) }
    }

    /// Checks that `file` still has the checksum and the record format the
    /// manifest recorded when its stage wrote it, so a stage never reads an
    /// input that changed under the stages before it, nor one written by a
    /// version of the tool whose records it would misread. Returns the
    /// checksum. `force` skips the checksums, never the format.
    @discardableResult
    public func verify(_ file: RunFile, force: Bool) throws -> String {
        let full = path(of: file)
        let producer = file.producer.rawValue
        let command = file.producer.command
        guard FileManager.default.fileExists(atPath: full) else {
            throw UsageError("\(full): missing (run `thinkgraph \(command)` first)")
        }
        let checksum = try Self.checksums.of(full)
        let manifest = try RunManifest(directory: path)
        if let written = manifest.stage(producer)?.formats.first(where: { $0.0 == file.name })?.1, written != file.format {
            throw UsageError("\(full): written in record format \(written), this thinkgraph reads format \(file.format); "
                + "re-run \(command) and the stages after it")
        }
        guard !force else { return checksum }
        if let recorded = manifest.stage(producer)?.outputs.first(where: { $0.0 == file.name })?.1, recorded != checksum {
            let since = producer == "import" ? "it was imported" : "`\(producer)` wrote it"
            throw UsageError("\(full): changed since \(since) (checksum differs from run.json); re-run \(command), or pass --force")
        }
        // And what the producer read must still be there: a patients.jsonl
        // imported again under finished samples makes them stale.
        for (input, recorded) in manifest.stage(producer)?.inputs ?? [] {
            let current = path(ofNamed: input)
            guard FileManager.default.fileExists(atPath: current) else { continue }
            if try Self.checksums.of(current) != recorded {
                throw UsageError("\(full): made by `\(command)` from \(input) as it was before it was written again; "
                    + "re-run \(command) and the stages after it, or pass --force")
            }
        }
        return checksum
    }

    /// Checksums computed in this process, by path, size and modification
    /// time: a stage verifies patients.jsonl once, however many of its
    /// inputs were made from it.
    static let checksums = ChecksumCache()
}

/// A process-wide memo of file checksums (a file is known by its path,
/// size and modification time).
final class ChecksumCache: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [String: (size: Int64, modified: Date, checksum: String)] = [:]

    func of(_ path: String) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = attributes?[.modificationDate] as? Date ?? .distantPast
        if let entry = lock.withLock({ known[path] }), entry.size == size, entry.modified == modified { return entry.checksum }
        let checksum = try sha256OfFile(atPath: path)
        lock.withLock { known[path] = (size, modified, checksum) }
        return checksum
    }
}
