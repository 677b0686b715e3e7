import EHR
import Lexicon
import Matcher
import Runtime
import SimString
import TGSupport

/// How a concept was found.
public enum LinkKind: String, Sendable {
    /// A structured value whose normalised form is a lexicon string.
    case exact
    /// A code (ICD-10-CM, LOINC, RxNorm, SNOMED CT) looked up in the lexicon's code index.
    case code
    /// A structured value matched approximately (SimString).
    case approximate
    /// A structured value with no lexicon concept: kept as a string concept
    /// (`STR:` + normalised value) so co-occurrence still counts it.
    case string
    /// Found in free text by the concept matcher.
    case text
}

/// One concept of an event.
public struct LinkedConcept: Equatable, Sendable {
    public var concept: String
    public var name: String
    public var surface: String
    public var link: LinkKind
    public var similarity: Double
    /// The record key (or `text`) it came from.
    public var field: String
    public var context: MentionContext

    /// As `extract.jsonl` writes it.
    public var record: ExtractRecord.Concept {
        ExtractRecord.Concept(concept: concept, name: name, surface: surface, link: link.rawValue, similarity: similarity,
                              field: field, negated: context.negated, hypothetical: context.hypothetical,
                              historical: context.historical, family: context.family)
    }

    public init(concept: String, name: String, surface: String, link: LinkKind, similarity: Double, field: String,
                context: MentionContext = MentionContext()) {
        self.concept = concept
        self.name = name
        self.surface = surface
        self.link = link
        self.similarity = similarity
        self.field = field
        self.context = context
    }

    /// A concept read back from `extract.jsonl`; `location` names the
    /// record's file and field for an unknown link kind.
    public init(_ record: ExtractRecord.Concept, file: String, field location: String) throws {
        guard let link = LinkKind(rawValue: record.link) else {
            throw InputError(file: file, field: location, message: "unknown link kind \"\(record.link)\"")
        }
        self.init(concept: record.concept, name: record.name, surface: record.surface, link: link, similarity: record.similarity,
                  field: record.field, context: MentionContext(negated: record.negated, hypothetical: record.hypothetical,
                                                               historical: record.historical, family: record.family))
    }
}

/// The codes a record carries, in the order they are tried: the importers
/// write a diagnosis's ICD code as `icd_code` with `icd_version`, a lab's
/// LOINC code as `loinc`, a drug's RxNorm code as `rxnorm`, and any other
/// coded row as `code` with `code_system` (FHIR's system, named).
enum RecordCode {
    struct Code: Equatable {
        /// The lexicon source (SAB) of the code's vocabulary.
        var source: String
        var code: String
    }

    /// Every lexicon source a record's code can belong to.
    static let sources = ["ICD10CM", "LOINC", "RXNORM", "SNOMEDCT"]

    /// `code_system` values (as the FHIR importer names systems) → source.
    static let systems = ["ICD-10-CM": "ICD10CM", "LOINC": "LOINC", "RxNorm": "RXNORM", "SNOMED CT": "SNOMEDCT"]

    static func codes(of record: Record) -> [Code] {
        var found: [Code] = []
        func add(_ source: String, _ value: FieldValue?) {
            guard let code = value?.description.trimmingCharacters(in: .whitespaces), !code.isEmpty else { return }
            found.append(Code(source: source, code: code))
        }
        if record["icd_version"] == .integer(10) { add("ICD10CM", record["icd_code"]) }
        if let system = record["code_system"]?.description, let source = systems[system] { add(source, record["code"]) }
        add("LOINC", record["loinc"])
        add("RXNORM", record["rxnorm"])
        return found
    }
}

/// Links an event's structured values and free text to lexicon concepts.
///
/// Structured values (the keys tasks predict, plus any configured): a
/// record's code first (ICD-10-CM, LOINC, RxNorm, SNOMED CT: `RecordCode`; when the value is the title of a coded
/// row), then the exact normalised string, then the best SimString hit at
/// `valueThreshold`, else a string concept. Free text goes through the
/// concept matcher with its negation / family context. Immutable and
/// `Sendable`; per-thread state lives in `Session`.
public final class ConceptLinker: Sendable {
    public let matcher: ConceptMatcher
    public let fields: Set<String>
    public let valueThreshold: Double
    private let exact: [String: Int]
    /// Lexicon source → code key → concept, for the vocabularies records carry codes of.
    private let codes: [String: [String: String]]
    private let conceptNames: [String: String]

    public init(lexicon: LexiconStore, matcher: ConceptMatcher, fields: Set<String>, valueThreshold: Double = 0.8) throws {
        self.matcher = matcher
        self.fields = fields
        self.valueThreshold = valueThreshold
        var exact: [String: Int] = [:]
        try lexicon.forEachString { id, text in exact[text] = Int(id) - 1 }
        self.exact = exact
        var codes: [String: [String: String]] = [:]
        for source in Set(RecordCode.sources) { codes[source] = try lexicon.conceptsByCode(source: source) }
        self.codes = codes
        var names: [String: String] = [:]
        for concept in matcher.concepts.concepts { names[concept.cui] = concept.preferredName }
        conceptNames = names
    }

    /// Per-thread state: the matcher's session and a searcher for values.
    public struct Session {
        var matching: ConceptMatcher.Session
        var searcher: SimStringSearcher
        var cache: [String: LinkedConcept?] = [:]
    }

    public func makeSession() -> Session {
        Session(matching: matcher.makeSession(), searcher: SimStringSearcher(index: matcher.index))
    }

    /// The concepts of one event: its records' linked fields, then its text.
    public func concepts(of event: Event, session: inout Session) throws -> [LinkedConcept] {
        var found: [LinkedConcept] = []
        for record in event.records {
            for item in record.items where fields.contains(item.key) {
                let value = item.value.description
                guard !value.isEmpty else { continue }
                if let linked = try link(value, field: item.key, record: record, session: &session) {
                    found.append(linked)
                }
            }
        }
        if let text = event.text, !text.isEmpty {
            for mention in try matcher.match(text, session: &session.matching) {
                found.append(LinkedConcept(concept: mention.cui, name: mention.preferredName, surface: mention.ngram,
                                           link: .text, similarity: mention.similarity, field: "text",
                                           context: mention.context))
            }
        }
        return found
    }

    func link(_ value: String, field: String, record: Record, session: inout Session) throws -> LinkedConcept? {
        // A coded row (an ICD-10-CM diagnosis, a LOINC test, an RxNorm
        // drug, a SNOMED CT condition): its code decides when the lexicon
        // has it.
        for code in RecordCode.codes(of: record) {
            if let cui = codes[code.source]?[LexiconStore.codeKey(code.code)] {
                return LinkedConcept(concept: cui, name: conceptNames[cui] ?? value, surface: value, link: .code,
                                     similarity: 1, field: field)
            }
        }
        let normalized = matcher.normalizer.normalize(value)
        guard !normalized.isEmpty else { return nil }
        if let cached = session.cache[normalized] { return cached.map { relabel($0, surface: value, field: field) } }
        var result: LinkedConcept
        if let string = exact[normalized], let best = bestEntry(string) {
            result = LinkedConcept(concept: best.cui, name: best.preferredName, surface: value, link: .exact,
                                   similarity: 1, field: field)
        } else {
            let hits = try session.searcher.search(normalized, measure: .jaccard, threshold: valueThreshold)
            let top = hits.max { a, b in a.similarity != b.similarity ? a.similarity < b.similarity : a.id > b.id }
            if let top, let best = bestEntry(top.id) {
                result = LinkedConcept(concept: best.cui, name: best.preferredName, surface: value, link: .approximate,
                                       similarity: top.similarity, field: field)
            } else {
                // The name is the normalised value, not the first surface seen:
                // a resumed or differently chunked run names it the same.
                result = LinkedConcept(concept: "STR:" + normalized, name: normalized, surface: value, link: .string,
                                       similarity: 1, field: field)
            }
        }
        if session.cache.count > 100_000 { session.cache.removeAll(keepingCapacity: true) }
        session.cache[normalized] = result
        return result
    }

    private func relabel(_ concept: LinkedConcept, surface: String, field: String) -> LinkedConcept {
        var concept = concept
        concept.surface = surface
        concept.field = field
        return concept
    }

    /// The concept a string names: the one it is a preferred term of, else
    /// the first by id.
    private func bestEntry(_ string: Int) -> ConceptTable.Concept? {
        let entries = matcher.concepts.entries(forString: string)
        guard let entry = entries.first(where: \.preferred) ?? entries.first else { return nil }
        return matcher.concepts.concepts[entry.concept]
    }
}
