import TGSupport

/// One line of `dataset.jsonl`, the product: a training sample with the
/// chains the filter kept, the graph they were given and where they came
/// from.
public struct DatasetRecord: Sendable, Equatable {
    /// Where an example came from, so a curator can trace it back.
    public struct Provenance: Sendable, Equatable {
        /// The run folder's name.
        public var run: String
        /// The prompt template's name and SHA-256.
        public var template: String
        public var templateSHA256: String
        /// The model server's host (never a key).
        public var host: String
        /// The request's parameters, as JSON text.
        public var parameters: String
        /// `reasoning.jsonl:LINE`.
        public var source: String

        public init(run: String, template: String, templateSHA256: String, host: String, parameters: String, source: String) {
            self.run = run
            self.template = template
            self.templateSHA256 = templateSHA256
            self.host = host
            self.parameters = parameters
            self.source = source
        }
    }

    public var id: String
    public var task: String
    public var instruction: String
    /// The context shown to the model (the patient's record before the target).
    public var input: String
    public var targets: [String]
    public var targetCodes: [String]
    /// The evidence graph the prompt showed (`EvidenceRecord.graph`).
    public var graph: JSONValue
    /// The kept reasoning chains.
    public var chains: [String]
    public var model: String
    public var usage: ReasoningRecord.Usage
    public var provenance: Provenance

    public init(id: String, task: String, instruction: String, input: String, targets: [String], targetCodes: [String],
                graph: JSONValue, chains: [String], model: String, usage: ReasoningRecord.Usage, provenance: Provenance) {
        self.id = id
        self.task = task
        self.instruction = instruction
        self.input = input
        self.targets = targets
        self.targetCodes = targetCodes
        self.graph = graph
        self.chains = chains
        self.model = model
        self.usage = usage
        self.provenance = provenance
    }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        task = try fields.string("task")
        instruction = try fields.string("instruction")
        input = try fields.string("input")
        targets = try fields.strings("target")
        targetCodes = try fields.strings("target_codes")
        guard let graph = value["graph"], graph.objectValue != nil else { throw fields.error("graph", "expected an object") }
        self.graph = graph
        chains = try fields.strings("chains")
        guard !chains.isEmpty else { throw fields.error("chains", "no kept chain") }
        model = try fields.string("model")
        let usage = try RecordFields(value["usage"] ?? .null, file: file, line: line, path: "usage")
        self.usage = ReasoningRecord.Usage(promptTokens: try usage.int("prompt_tokens"), completionTokens: try usage.int("completion_tokens"),
                                           requests: try usage.int("requests"))
        let from = try RecordFields(value["provenance"] ?? .null, file: file, line: line, path: "provenance")
        provenance = Provenance(run: try from.string("run"), template: try from.string("template"),
                                templateSHA256: try from.string("template_sha256"), host: try from.string("host"),
                                parameters: try from.string("parameters"), source: try from.string("source"))
    }

    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("task", .string(task)), ("instruction", .string(instruction)), ("input", .string(input)),
            ("target", .array(targets.map { .string($0) })), ("target_codes", .array(targetCodes.map { .string($0) })),
            ("graph", graph), ("chains", .array(chains.map { .string($0) })), ("model", .string(model)), ("usage", usage.json),
            ("provenance", .object([
                ("run", .string(provenance.run)), ("template", .string(provenance.template)),
                ("template_sha256", .string(provenance.templateSHA256)), ("host", .string(provenance.host)),
                ("parameters", .string(provenance.parameters)), ("source", .string(provenance.source)),
            ])),
        ])
    }
}
