import TGSupport

/// One line of `filter.jsonl`: the filter's verdict on each completion of
/// one answered training sample, in the order of the reasoning record's
/// completions.
public struct VerdictRecord: Sendable, Equatable {
    /// The kept chain another kept chain nearly copies (`ID#INDEX`), and the
    /// estimated Jaccard similarity of their word 5-grams.
    public struct NearDuplicate: Sendable, Equatable {
        public var of: String
        public var similarity: Double

        public init(of: String, similarity: Double) {
            self.of = of
            self.similarity = similarity
        }
    }

    /// The verdict on one completion.
    public struct Verdict: Sendable, Equatable {

        /// Empty when the completion is kept.
        public var reasons: [String]
        /// Share of the target items in the final answer.
        public var coverage: Double?
        /// DeepICD: the predicted code.
        public var code: String?
        /// DeepICD: how far the predicted code agrees with the gold codes.
        public var level: String?
        /// What the chain's cited events and quoted values stand on.
        public var grounding: Grounding?
        /// A kept chain that nearly copies an earlier kept chain (of this
        /// sample or another): that chain (`ID#INDEX`) and the estimated
        /// Jaccard similarity of their word 5-grams.
        public var nearDuplicate: NearDuplicate?

        public var kept: Bool { reasons.isEmpty }

        public init(reasons: [String], coverage: Double? = nil, code: String? = nil, level: String? = nil,
                    grounding: Grounding? = nil) {
            self.reasons = reasons
            self.coverage = coverage
            self.code = code
            self.level = level
            self.grounding = grounding
        }

        init(fields: RecordFields) throws {
            reasons = try fields.strings("reasons")
            coverage = fields.has("coverage") ? try fields.double("coverage") : nil
            code = try fields.optionalString("code")
            level = try fields.optionalString("level")
            if fields.has("near_duplicate_of") {
                let near = try RecordFields(fields.value["near_duplicate_of"]!, file: fields.file, line: fields.line,
                                            path: fields.name("near_duplicate_of"))
                nearDuplicate = NearDuplicate(of: try near.string("chain"), similarity: try near.double("similarity"))
            }
            grounding = fields.has("grounding")
                ? try Grounding(fields: RecordFields(fields.value["grounding"]!, file: fields.file, line: fields.line,
                                                     path: fields.name("grounding")))
                : nil
            guard try fields.flag("kept") == reasons.isEmpty else {
                throw fields.error("kept", "disagrees with the \(reasons.count) reasons")
            }
        }

        public var json: JSONValue {
            var members: [(String, JSONValue)] = [("kept", .bool(kept)), ("reasons", .array(reasons.map { .string($0) }))]
            if let coverage { members.append(("coverage", .number((coverage * 1000).rounded() / 1000))) }
            if let code { members.append(("code", .string(code))) }
            if let level { members.append(("level", .string(level))) }
            if let grounding { members.append(("grounding", grounding.json)) }
            if let nearDuplicate {
                members.append(("near_duplicate_of", .object([("chain", .string(nearDuplicate.of)),
                                                               ("similarity", .number((nearDuplicate.similarity * 1000).rounded() / 1000))])))
            }
            return .object(members)
        }
    }

    public var id: String
    public var task: String
    public var verdicts: [Verdict]
    /// How many completions were kept.
    public var kept: Int { verdicts.filter(\.kept).count }

    public init(id: String, task: String, verdicts: [Verdict]) {
        self.id = id
        self.task = task
        self.verdicts = verdicts
    }

    public init(json value: JSONValue, file: String, line: Int?) throws {
        let fields = try RecordFields(value, file: file, line: line)
        id = try fields.string("id")
        task = try fields.string("task")
        verdicts = try fields.objects("verdicts", Verdict.init(fields:))
        let written = try fields.int("kept")
        guard written == kept else { throw fields.error("kept", "\(written), but \(kept) verdicts keep their completion") }
    }

    public var json: JSONValue {
        .object([("id", .string(id)), ("task", .string(task)), ("kept", .integer(Int64(kept))),
                 ("verdicts", .array(verdicts.map(\.json)))])
    }
}
