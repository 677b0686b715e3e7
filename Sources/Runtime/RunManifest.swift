import Foundation
import TGSupport

/// `run.json`, the record of a run folder: which tool version made it, the
/// inputs each stage consumed (with SHA-256, so a later stage can refuse
/// inputs that changed under it), and each stage's status, configuration
/// and counts. Written atomically (temporary file, fsync, rename).
public struct RunManifest: Sendable {
    public struct Stage: Sendable {
        public var status: String
        public var started: String?
        public var finished: String?
        public var configuration: [(String, JSONValue)] = []
        /// Input file (relative to the run folder) → SHA-256.
        public var inputs: [(String, String)] = []
        public var outputs: [(String, String)] = []
        /// Output file → the version of its record format (`RunFile.format`).
        public var formats: [(String, Int)] = []
        public var counts: JSONValue = .object([])

        public init(status: String) { self.status = status }

        /// Records the checksums of `stage`'s inputs as they are now.
        public mutating func recordInputs(of stage: PipelineStage, in run: RunFolder) throws {
            inputs = try stage.inputs.map { ($0.name, try RunFolder.checksums.of(run.path(of: $0))) }
        }

        /// Records the checksums and record formats of `files`, written now.
        public mutating func recordOutputs(_ files: [RunFile], in run: RunFolder) throws {
            outputs = try files.map { ($0.name, try sha256OfFile(atPath: run.path(of: $0))) }
            formats = files.map { ($0.name, $0.format) }
        }
    }

    public var directory: String
    public var toolVersion = ThinkgraphVersion.current
    public var created: String
    /// Stage name → stage, in the order stages were first recorded.
    public private(set) var stages: [(String, Stage)] = []

    public static func path(in directory: String) -> String { directory + "/run.json" }

    /// Loads `run.json` from `directory`, or starts a new one.
    public init(directory: String) throws {
        self.directory = directory
        created = Self.now()
        let path = Self.path(in: directory)
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let root: JSONValue
        do {
            root = try data.withUnsafeBytes { try JSONValue.parse($0.bindMemory(to: UInt8.self)) }
        } catch let error as JSONSyntaxError {
            throw InputError(file: path, message: error.description)
        }
        created = root["created"]?.stringValue ?? created
        for (name, value) in root["stages"]?.objectValue ?? [] {
            var stage = Stage(status: value["status"]?.stringValue ?? "unknown")
            stage.started = value["started"]?.stringValue
            stage.finished = value["finished"]?.stringValue
            stage.configuration = value["configuration"]?.objectValue ?? []
            stage.inputs = (value["inputs"]?.objectValue ?? []).compactMap { key, hash in hash.stringValue.map { (key, $0) } }
            stage.outputs = (value["outputs"]?.objectValue ?? []).compactMap { key, hash in hash.stringValue.map { (key, $0) } }
            stage.formats = (value["formats"]?.objectValue ?? []).compactMap { key, version in
                if case .integer(let number) = version { (key, Int(number)) } else { nil }
            }
            stage.counts = value["counts"] ?? .object([])
            stages.append((name, stage))
        }
    }

    public func stage(_ name: String) -> Stage? { stages.first { $0.0 == name }?.1 }

    /// The first stage whose recorded input no longer matches what the
    /// stage that writes that file recorded last (a patients.jsonl imported
    /// again under finished samples), as a message naming what to re-run;
    /// nil if the run is consistent. Reads run.json only.
    public func staleness() -> String? {
        for (name, stage) in stages {
            for (input, checksum) in stage.inputs {
                guard let (producer, written) = stages.lazy.compactMap({ entry -> (String, String)? in
                    guard let output = entry.1.outputs.first(where: { $0.0 == input }) else { return nil }
                    return (entry.0, output.1)
                }).first, written != checksum else { continue }
                let command = name == "reasoning" ? "reason" : name
                return "`\(command)` read \(input) before `\(producer)` wrote it again; re-run \(command) and the stages after it"
            }
        }
        return nil
    }

    public mutating func set(_ name: String, _ stage: Stage) {
        if let position = stages.firstIndex(where: { $0.0 == name }) {
            stages[position].1 = stage
        } else {
            stages.append((name, stage))
        }
    }

    public var json: JSONValue {
        .object([
            ("tool", .string("thinkgraph")), ("version", .string(toolVersion)), ("created", .string(created)),
            ("stages", .object(stages.map { name, stage in
                var members: [(String, JSONValue)] = [("status", .string(stage.status))]
                if let started = stage.started { members.append(("started", .string(started))) }
                if let finished = stage.finished { members.append(("finished", .string(finished))) }
                members.append(("configuration", .object(stage.configuration)))
                members.append(("inputs", .object(stage.inputs.map { ($0.0, .string($0.1)) })))
                members.append(("outputs", .object(stage.outputs.map { ($0.0, .string($0.1)) })))
                if !stage.formats.isEmpty { members.append(("formats", .object(stage.formats.map { ($0.0, .integer(Int64($0.1))) }))) }
                members.append(("counts", stage.counts))
                return (name, .object(members))
            })),
        ])
    }

    public func save() throws {
        let writer = try JSONLinesWriter(path: Self.path(in: directory))
        try writer.writeLine(json.jsonText)
        try writer.commit()
    }

    /// The current UTC time, ISO 8601.
    public static func now() -> String { format(Date()) }

    /// A time as run.json writes it (UTC, ISO 8601).
    public static func format(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
