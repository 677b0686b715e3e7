import TGSupport

/// One line of `reasoning.jsonl` (and of the reasoning chunks and
/// `batch/prompts.jsonl`): what stage 4 asked about one sample and what
/// came back. The reasoning stage and the batch import write it with
/// `json`; the filter, inspect and the report read it with
/// `init(json:file:line:)`, which refuses a record missing a field.
public struct ReasoningRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// Every chain asked for came back.
        case ok
        /// Some chains came back.
        case partial
        /// None came back; `error` says why.
        case failed
        /// The prompt did not fit the model's context, however small.
        case tooLong = "too_long"
        /// Not asked (`reason` says why).
        case skipped
        /// In a Batch API file, not answered yet.
        case pending

        /// Whether chains may have come back.
        public var answered: Bool { self == .ok || self == .partial }
    }

    /// One chain as the server returned it.
    public struct Completion: Sendable, Equatable {
        public var text: String
        /// "stop", "length", "content_filter", ... as the server said.
        public var finishReason: String
        /// The seed of the request that produced it, when one was set.
        public var seed: Int64?

        public init(text: String, finishReason: String, seed: Int64? = nil) {
            self.text = text
            self.finishReason = finishReason
            self.seed = seed
        }

        public var json: JSONValue {
            var members: [(String, JSONValue)] = [("text", .string(text)), ("finish_reason", .string(finishReason))]
            if let seed { members.append(("seed", .integer(seed))) }
            return .object(members)
        }
    }

    /// Tokens and requests spent on the sample.
    public struct Usage: Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        public var requests: Int

        public init(promptTokens: Int = 0, completionTokens: Int = 0, requests: Int = 0) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.requests = requests
        }

        public var json: JSONValue {
            .object([("prompt_tokens", .integer(Int64(promptTokens))), ("completion_tokens", .integer(Int64(completionTokens))),
                     ("requests", .integer(Int64(requests)))])
        }
    }

    /// What was asked and what came back (every record but a skipped one).
    public struct Asked: Sendable, Equatable {
        public var templateSHA256: String
        /// The answer format the template asks for (ehr-r1, deepicd).
        public var format: String
        public var model: String
        public var host: String
        /// The request's parameters, as sent.
        public var parameters: JSONValue
        public var instruction: String
        public var context: String
        public var contextBudget: Int
        public var droppedEvents: Int
        public var droppedPaths: Int
        /// The knowledge lines the prompt showed.
        public var knowledge: [String]
        public var targets: [String]
        public var targetCodes: [String]
        /// The evidence record's pairs and paths.
        public var graph: JSONValue
        public var completions: [Completion]
        public var usage: Usage
        public var attempts: Int
        public var seconds: Double
        /// Why chains are missing, when they are: kind and message.
        public var error: (kind: String, message: String)?

        public init(templateSHA256: String, format: String, model: String, host: String, parameters: JSONValue, instruction: String,
                    context: String, contextBudget: Int, droppedEvents: Int, droppedPaths: Int, knowledge: [String],
                    targets: [String], targetCodes: [String], graph: JSONValue, completions: [Completion], usage: Usage,
                    attempts: Int, seconds: Double, error: (kind: String, message: String)?) {
            self.templateSHA256 = templateSHA256
            self.format = format
            self.model = model
            self.host = host
            self.parameters = parameters
            self.instruction = instruction
            self.context = context
            self.contextBudget = contextBudget
            self.droppedEvents = droppedEvents
            self.droppedPaths = droppedPaths
            self.knowledge = knowledge
            self.targets = targets
            self.targetCodes = targetCodes
            self.graph = graph
            self.completions = completions
            self.usage = usage
            self.attempts = attempts
            self.seconds = seconds
            self.error = error
        }

        public static func == (lhs: Asked, rhs: Asked) -> Bool {
            lhs.templateSHA256 == rhs.templateSHA256 && lhs.format == rhs.format && lhs.model == rhs.model && lhs.host == rhs.host
                && lhs.parameters == rhs.parameters && lhs.instruction == rhs.instruction && lhs.context == rhs.context
                && lhs.contextBudget == rhs.contextBudget && lhs.droppedEvents == rhs.droppedEvents && lhs.droppedPaths == rhs.droppedPaths
                && lhs.knowledge == rhs.knowledge && lhs.targets == rhs.targets && lhs.targetCodes == rhs.targetCodes
                && lhs.graph == rhs.graph && lhs.completions == rhs.completions && lhs.usage == rhs.usage && lhs.attempts == rhs.attempts
                && lhs.seconds == rhs.seconds && lhs.error?.kind == rhs.error?.kind && lhs.error?.message == rhs.error?.message
        }
    }

    public var id: String
    public var task: String
    public var status: Status
    /// The template's name.
    public var template: String
    /// Why a skipped sample was not asked about.
    public var reason: String?
    /// nil exactly when skipped.
    public var asked: Asked?

    /// A sample not asked about.
    public init(skipped id: String, task: String, template: String, reason: String) {
        self.id = id
        self.task = task
        status = .skipped
        self.template = template
        self.reason = reason
        asked = nil
    }

    public init(id: String, task: String, status: Status, template: String, asked: Asked) {
        self.id = id
        self.task = task
        self.status = status
        self.template = template
        reason = nil
        self.asked = asked
    }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        task = try fields.string("task")
        status = try fields.value("status", as: Status.self)
        template = try fields.string("template")
        guard status != .skipped else {
            reason = try fields.string("reason")
            asked = nil
            return
        }
        reason = nil
        let usage = try RecordFields(fields.value["usage"] ?? .null, file: file, line: line, path: "usage")
        var error: (String, String)?
        if fields.has("error") {
            let failure = try RecordFields(fields.value["error"]!, file: file, line: line, path: "error")
            error = (try failure.string("kind"), try failure.string("message"))
        }
        guard let parameters = fields.value["parameters"], parameters.objectValue != nil else {
            throw InputError(file: file, line: line, field: "parameters", message: "missing, or not a JSON object")
        }
        guard let graph = fields.value["graph"], graph.objectValue != nil else {
            throw InputError(file: file, line: line, field: "graph", message: "missing, or not a JSON object")
        }
        asked = Asked(
            templateSHA256: try fields.string("template_sha256"), format: try fields.string("format"), model: try fields.string("model"),
            host: try fields.string("host"), parameters: parameters, instruction: try fields.string("instruction"),
            context: try fields.string("context"), contextBudget: try fields.int("context_budget"),
            droppedEvents: try fields.int("dropped_events"), droppedPaths: try fields.int("dropped_paths"),
            knowledge: try fields.strings("knowledge"), targets: try fields.strings("targets"),
            targetCodes: try fields.strings("target_codes"), graph: graph,
            completions: try fields.objects("completions") { completion in
                Completion(text: try completion.string("text"), finishReason: try completion.string("finish_reason"),
                           seed: completion.has("seed") ? try completion.int64("seed") : nil)
            },
            usage: Usage(promptTokens: try usage.int("prompt_tokens"), completionTokens: try usage.int("completion_tokens"),
                         requests: try usage.int("requests")),
            attempts: try fields.int("attempts"), seconds: try fields.double("seconds"), error: error)
    }

    public var json: JSONValue {
        guard let asked else {
            return .object([("id", .string(id)), ("task", .string(task)), ("status", .string(status.rawValue)),
                            ("reason", .string(reason ?? "")), ("template", .string(template))])
        }
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("task", .string(task)), ("status", .string(status.rawValue)),
            ("template", .string(template)), ("template_sha256", .string(asked.templateSHA256)), ("format", .string(asked.format)),
            ("model", .string(asked.model)), ("host", .string(asked.host)), ("parameters", asked.parameters),
            ("instruction", .string(asked.instruction)), ("context", .string(asked.context)),
            ("context_budget", .integer(Int64(asked.contextBudget))), ("dropped_events", .integer(Int64(asked.droppedEvents))),
            ("dropped_paths", .integer(Int64(asked.droppedPaths))),
            ("knowledge", .array(asked.knowledge.map { .string($0) })),
            ("targets", .array(asked.targets.map { .string($0) })),
            ("target_codes", .array(asked.targetCodes.map { .string($0) })),
            ("graph", asked.graph),
            ("completions", .array(asked.completions.map(\.json))), ("usage", asked.usage.json),
            ("attempts", .integer(Int64(asked.attempts))), ("seconds", .number((asked.seconds * 1000).rounded() / 1000)),
        ]
        if let error = asked.error {
            members.append(("error", .object([("kind", .string(error.kind)), ("message", .string(error.message))])))
        }
        return .object(members)
    }
}
