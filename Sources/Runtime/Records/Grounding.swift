import TGSupport

/// What a reasoning chain stands on, checked against the context the model
/// was given: the events it cites (`**Event Name [Event Time]**`, as the
/// templates ask) must be events of the context at that time, and the
/// values it quotes with a unit must be values of the context, and the
/// concepts it asserts about the patient must be in the context or the
/// knowledge paths (one only the expected answer holds is reasoning
/// backwards).
///
/// EHR-R1's filter looks only at the final answer; a chain that invents a
/// lab value or cites an event that never happened passes it. This check
/// reads the chain's Extraction and Reasoning (the whole text for the
/// answer and DeepICD formats).
public struct Grounding: Equatable, Sendable {
    /// Events cited, and how many the context has at the cited time.
    public var cited = 0
    public var citedFound = 0
    /// Numbers quoted with a unit, and how many the context holds.
    public var values = 0
    public var valuesMatched = 0
    /// Concepts asserted about the patient (0 when not checked: the filter
    /// had no lexicon), and how many the context or knowledge holds.
    public var concepts = 0
    public var conceptsSupported = 0
    /// What the context does not support, as the chain wrote it.
    public var unsupported: [String] = []

    /// Share of the checked claims the context supports; nil when the
    /// chain cites nothing, quotes no value and asserts no concept.
    public var score: Double? {
        let checked = cited + values + concepts
        return checked == 0 ? nil : Double(citedFound + valuesMatched + conceptsSupported) / Double(checked)
    }

    public init() {}
}

extension Grounding {
    /// As `filter.jsonl` writes it.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = []
        if let score { members.append(("score", .number((score * 1000).rounded() / 1000))) }
        members += [("cited", .integer(Int64(cited))), ("cited_found", .integer(Int64(citedFound))),
                    ("values", .integer(Int64(values))), ("values_matched", .integer(Int64(valuesMatched)))]
        if concepts > 0 {
            members += [("concepts", .integer(Int64(concepts))), ("concepts_supported", .integer(Int64(conceptsSupported)))]
        }
        members += [("unsupported", .array(unsupported.map { .string($0) }))]
        return .object(members)
    }

    init(fields: RecordFields) throws {
        cited = try fields.int("cited")
        citedFound = try fields.int("cited_found")
        values = try fields.int("values")
        valuesMatched = try fields.int("values_matched")
        unsupported = try fields.strings("unsupported")
        if fields.has("concepts") {
            concepts = try fields.int("concepts")
            conceptsSupported = try fields.int("concepts_supported")
        }
        guard citedFound <= cited, valuesMatched <= values, conceptsSupported <= concepts else {
            throw fields.error("cited_found", "more claims supported than checked")
        }
        if fields.has("score") {
            let written = try fields.double("score")
            guard let score, abs(score - written) < 0.001 else {
                throw fields.error("score", "\(written) disagrees with the counts")
            }
        }
    }
}
