import TGSupport

/// A file of a run folder that one stage writes and later stages read,
/// with the version of its record format. The version is recorded in
/// `run.json` beside the file's checksum when the stage writes it; a
/// reader refuses a file written in another format (`RunFolder.verify`)
/// instead of misreading it. Bump `format` whenever a record type
/// (`Sample`, `ExtractRecord`, `EvidenceRecord`, `ReasoningRecord`,
/// `VerdictRecord`, `DatasetRecord`, the timeline, the matrix) changes
/// what it writes in a way older readers would not read the same.
public struct RunFile: Sendable, Equatable, CustomStringConvertible {
    /// The name inside the run folder.
    public let name: String
    /// The stage that writes it, as `run.json` names it.
    public let producer: PipelineStage
    /// The record format's version.
    public let format: Int

    public var description: String { name }
    /// A compact run gzips it (`RunFolder.isCompact`).
    public var compressible: Bool { [Self.patients.name, Self.samples.name, Self.extract.name, Self.evidence.name].contains(name) }

    /// One patient timeline per line (`Patient`).
    public static let patients = RunFile(name: "patients.jsonl", producer: .import, format: 1)
    /// One sample per line (`Sample`).
    public static let samples = RunFile(name: "samples.jsonl", producer: .samples, format: 1)
    /// The task definitions the samples were made with.
    public static let tasks = RunFile(name: "tasks.json", producer: .samples, format: 1)
    /// One patient's concepts per line (`ExtractRecord`).
    public static let extract = RunFile(name: "extract.jsonl", producer: .extract, format: 1)
    /// The co-occurrence counts and lift (`CooccurrenceMatrix`).
    public static let cooccur = RunFile(name: "cooccur.sqlite", producer: .cooccur, format: 1)
    /// One sample's pairs and paths per line (`EvidenceRecord`).
    public static let evidence = RunFile(name: "evidence.jsonl", producer: .evidence, format: 1)
    /// One sample's prompt and chains per line (`ReasoningRecord`).
    public static let reasoning = RunFile(name: "reasoning.jsonl", producer: .reasoning, format: 1)
    /// The kept examples (`DatasetRecord`).
    public static let dataset = RunFile(name: "dataset.jsonl", producer: .filter, format: 1)
    /// Every verdict (`VerdictRecord`).
    public static let verdicts = RunFile(name: "filter.jsonl", producer: .filter, format: 1)
    /// The filter's pass rates per task.
    public static let filterStats = RunFile(name: "filter-stats.json", producer: .filter, format: 1)

    public static let all: [RunFile] = [.patients, .samples, .tasks, .extract, .cooccur, .evidence, .reasoning, .dataset, .verdicts,
                                        .filterStats]

    /// The file of that name, if a stage writes it.
    public static func named(_ name: String) -> RunFile? { all.first { $0.name == name } }
}

/// The stages of a run, in order, with what each reads and writes: the
/// one list the commands verify their inputs from and record their outputs
/// by (and that `docs/RUNTIME.md` shows).
public enum PipelineStage: String, Sendable, CaseIterable {
    case `import`, samples, extract, cooccur, evidence, reasoning, filter

    /// The files the stage reads, verified before it starts.
    public var inputs: [RunFile] {
        switch self {
        case .import: []
        case .samples: [.patients]
        case .extract: [.patients, .samples]
        case .cooccur: [.samples, .extract]
        case .evidence: [.samples, .extract, .cooccur]
        case .reasoning: [.patients, .samples, .evidence]
        case .filter: [.reasoning]
        }
    }

    /// The files it writes.
    public var outputs: [RunFile] { RunFile.all.filter { $0.producer == self } }

    /// What each chunk of a chunked stage writes (`RUN/<stage>/chunk-*<suffix>`);
    /// nil for a stage that runs whole.
    public var chunkSuffix: String? {
        switch self {
        case .extract, .evidence, .reasoning: ".jsonl"
        case .cooccur: ".sqlite"
        case .import, .samples, .filter: nil
        }
    }

    /// The subcommand that runs it.
    public var command: String { self == .reasoning ? "reason" : rawValue }

    /// The stage whose entry in `run.json` has this name.
    public init?(manifestName: String) { self.init(rawValue: manifestName) }
}
