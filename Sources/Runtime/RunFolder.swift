import Foundation
import TGSupport

/// The files of a run folder, and the checks a stage makes before it runs.
///
///     RUN/run.json             manifest (stages, inputs with checksums, counts)
///     RUN/patients.jsonl       timelines (import)
///     RUN/samples.jsonl        sample index (samples)
///     RUN/STAGE/chunk-IIII-of-NNNN.jsonl (+ .done, .lock)   a chunked stage's workers
///     RUN/STAGE.jsonl          the stage's merged output (STAGE merge)
public struct RunFolder: Sendable {
    public let path: String

    public init(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("\(path): no run folder (create one with `thinkgraph import ... --run \(path)`)")
        }
        self.path = path
    }

    public var patients: String { path + "/patients.jsonl" }
    public var samples: String { path + "/samples.jsonl" }
    public func chunkDirectory(_ stage: String) -> String { path + "/" + stage }
    public func merged(_ stage: String) -> String { path + "/" + stage + ".jsonl" }
    public func chunkFile(_ stage: String, _ chunk: Chunk) -> String { chunkDirectory(stage) + "/" + chunk.name + ".jsonl" }

    /// Checks that `file` (relative to the run) still has the checksum the
    /// manifest recorded as `producer`'s output, so a stage never reads an
    /// input that changed under the stages before it. Returns the checksum.
    @discardableResult
    public func verify(_ file: String, producedBy producer: String, force: Bool) throws -> String {
        let full = path + "/" + file
        guard FileManager.default.fileExists(atPath: full) else {
            throw UsageError("\(full): missing (run `thinkgraph \(producer)` first)")
        }
        let checksum = try sha256OfFile(atPath: full)
        let manifest = try RunManifest(directory: path)
        if let recorded = manifest.stage(producer)?.outputs.first(where: { $0.0 == file })?.1, recorded != checksum, !force {
            throw UsageError("\(full): changed since `\(producer)` wrote it (checksum differs from run.json); re-run \(producer), or pass --force")
        }
        return checksum
    }
}
