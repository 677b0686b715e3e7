import TGSupport

/// One line of `evidence.jsonl` (and of the evidence chunks): what stage 3
/// found for one sample. The evidence stage writes it with `json`; every
/// reader (the reasoning stage, the curation views, the eval export) reads
/// it with `init(json:file:line:)`, which refuses a record missing a field
/// instead of defaulting it.
public struct EvidenceRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// At least one pair has a knowledge path.
        case graph
        /// Pairs above the thresholds, none with a path.
        case noPath = "no_path"
        /// No history concept passes the thresholds with a target.
        case noPairs = "no_pairs"
    }

    /// A target concept and a history concept whose lift passed the thresholds.
    public struct Pair: Sendable, Equatable {
        public var target: String
        public var history: String
        public var lift: Double
        /// Training samples of the task with both.
        public var count: Int

        public init(target: String, history: String, lift: Double, count: Int) {
            self.target = target
            self.history = history
            self.lift = lift
            self.count = count
        }
    }

    /// A path through the relation graph between a pair's concepts.
    public struct Path: Sendable, Equatable {
        public var target: String
        public var history: String
        /// `[term, relation, term, ...]` as the prompt shows it, the
        /// patient's own strings at the ends.
        public var steps: [String]
        /// The concept ids along the path, target first.
        public var concepts: [String]
        public var hops: Int

        public init(target: String, history: String, steps: [String], concepts: [String], hops: Int) {
            self.target = target
            self.history = history
            self.steps = steps
            self.concepts = concepts
            self.hops = hops
        }

        /// `term -> relation -> term ...`, as the prompt's knowledge lines.
        public var line: String { steps.joined(separator: " -> ") }
        public var terms: [String] { stride(from: 0, to: steps.count, by: 2).map { steps[$0] } }
        public var relations: [String] { stride(from: 1, to: steps.count, by: 2).map { steps[$0] } }
    }

    public var id: String
    public var task: String
    /// train or test.
    public var split: String
    public var status: Status
    public var targets: [String]
    public var pairs: [Pair]
    public var paths: [Path]

    public init(id: String, task: String, split: String, targets: [String], pairs: [Pair], paths: [Path]) {
        self.id = id
        self.task = task
        self.split = split
        self.targets = targets
        self.pairs = pairs
        self.paths = paths
        status = paths.isEmpty ? (pairs.isEmpty ? .noPairs : .noPath) : .graph
    }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        task = try fields.string("task")
        split = try fields.string("split")
        status = try fields.value("status", as: Status.self)
        targets = try fields.strings("targets")
        pairs = try fields.objects("pairs") { pair in
            Pair(target: try pair.string("target"), history: try pair.string("history"), lift: try pair.double("lift"),
                 count: try pair.int("count"))
        }
        paths = try fields.objects("paths") { path in
            let steps = try path.strings("path")
            guard steps.count >= 3, steps.count % 2 == 1 else {
                throw InputError(file: file, line: line, field: path.name("path"), message: "expected [term, relation, term, ...]")
            }
            let concepts = try path.strings("concepts")
            guard concepts.count == (steps.count + 1) / 2 else {
                throw InputError(file: file, line: line, field: path.name("concepts"),
                                 message: "\(concepts.count) concepts for the \((steps.count + 1) / 2) terms of the path")
            }
            return Path(target: try path.string("target"), history: try path.string("history"), steps: steps,
                        concepts: concepts, hops: try path.int("hops"))
        }
        let expected: Status = paths.isEmpty ? (pairs.isEmpty ? .noPairs : .noPath) : .graph
        guard status == expected else {
            throw InputError(file: file, line: line, field: "status", message: "\"\(status.rawValue)\" with \(pairs.count) pairs and \(paths.count) paths")
        }
    }

    public var json: JSONValue {
        .object([("id", .string(id)), ("task", .string(task)), ("split", .string(split)), ("status", .string(status.rawValue)),
                 ("targets", .array(targets.map { .string($0) })), ("pairs", .array(pairs.map(\.json))),
                 ("paths", .array(paths.map(\.json)))])
    }

    /// The knowledge graph shown to curators and exported with a sample:
    /// its pairs and paths, as written.
    public var graph: JSONValue {
        .object([("pairs", .array(pairs.map(\.json))), ("paths", .array(paths.map(\.json)))])
    }

    /// An empty graph (a sample without evidence).
    public static let emptyGraph = JSONValue.object([("pairs", .array([])), ("paths", .array([]))])
}

extension EvidenceRecord.Pair {
    public var json: JSONValue {
        .object([("target", .string(target)), ("history", .string(history)), ("lift", .number(lift)), ("count", .integer(Int64(count)))])
    }
}

extension EvidenceRecord.Path {
    public var json: JSONValue {
        .object([("target", .string(target)), ("history", .string(history)), ("path", .array(steps.map { .string($0) })),
                 ("concepts", .array(concepts.map { .string($0) })), ("hops", .integer(Int64(hops)))])
    }
}
