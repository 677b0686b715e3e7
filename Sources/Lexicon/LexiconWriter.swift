import SQLiteDB

/// Receives concepts, terms and relations from the importers and writes them
/// into a fresh lexicon database.
///
/// Keeps the small lookup tables in memory (concept id by CUI, string id by
/// normalised text) so each incoming row costs one hash lookup and one
/// prepared INSERT; everything large goes straight to SQLite. Concepts from
/// different sources merge on their concept id (a UMLS CUI where one is
/// known, otherwise a source-prefixed id such as `HP:0001250`).
final class LexiconWriter {
    let normalizer: TermNormalizer
    private let database: Database

    private var conceptIDs: [String: Int32] = [:]
    private var conceptDrafts: [ConceptDraft] = []
    private var stringIDs: [String: Int32] = [:]
    private var sourceIDs: [String: Int32] = [:]
    private var relationTypeIDs: [RelationType: Int32] = [:]
    /// Codes of vocabularies that also arrive as their own files (ICD-10-CM,
    /// HPO), so those files attach to the UMLS concept instead of a twin.
    private var codeIndex: [SourceCode: String] = [:]
    static let codeIndexedSources: Set<String> = ["ICD10CM", "HPO", "SNOMEDCT", "RXNORM", "LOINC"]
    /// The first concept each normalised string named.
    private var conceptOfString: [Int32: String] = [:]

    private let insertString: Statement
    private let insertTerm: Statement
    private let insertSemanticType: Statement
    private let insertDefinition: Statement
    private let insertRelation: Statement
    private let insertXref: Statement

    private(set) var counts = LexiconCounts()
    /// The longest term kept, in bytes of its normalised form (UMLS's
    /// longest strings are a few thousand; a longer one is not a term).
    static let maximumTermBytes = 4_096

    struct ConceptDraft {
        var cui: String
        var preferred: String
        var preferredRank: Int
    }

    struct RelationType: Hashable {
        var rel: String
        var rela: String
    }

    struct SourceCode: Hashable {
        var source: String
        var code: String
    }

    /// How good a term is as the concept's display name; lower wins.
    enum NameRank {
        static let umlsPreferred = 0
        static let sourcePreferred = 1
        static let other = 9
    }

    init(databasePath: String, normalizer: TermNormalizer) throws {
        self.normalizer = normalizer
        database = try Database(path: databasePath, mode: .create)
        try database.execute(LexiconSchema.bulkLoadPragmas)
        try database.execute(LexiconSchema.tables)
        try database.execute("BEGIN")
        insertString = try database.prepare("INSERT INTO strings(id, norm) VALUES (?, ?)")
        insertTerm = try database.prepare(
            "INSERT INTO terms(concept, string, text, source, tty, code, preferred) VALUES (?, ?, ?, ?, ?, ?, ?)")
        insertSemanticType = try database.prepare(
            "INSERT OR IGNORE INTO semantic_types(concept, tui, name) VALUES (?, ?, ?)")
        insertDefinition = try database.prepare("INSERT INTO definitions(concept, source, text) VALUES (?, ?, ?)")
        insertRelation = try database.prepare(
            "INSERT INTO relations(concept1, type, concept2, source) VALUES (?, ?, ?, ?)")
        insertXref = try database.prepare("INSERT INTO xrefs(concept, xref) VALUES (?, ?)")
    }

    // MARK: Concepts and terms

    func hasConcept(_ cui: String) -> Bool { conceptIDs[cui] != nil }

    /// The concept a source's own code was filed under by an earlier source
    /// (e.g. the UMLS CUI that carries ICD-10-CM code `A00.0`).
    func concept(forCode code: String, in source: String) -> String? {
        codeIndex[SourceCode(source: source, code: code)]
    }

    /// The concept that first used `name` (normalised), if any.
    func concept(named name: String) -> String? {
        stringIDs[normalizer.normalize(name)].flatMap { conceptOfString[$0] }
    }

    /// Files `source`'s `code` under `cui` before that source is imported
    /// (an ontology's exact cross-reference: DO's `ICD10CM:I10` makes I10
    /// the same concept as DO's hypertension). The first claim wins; false
    /// when the code was claimed already.
    @discardableResult
    func claim(code: String, in source: String, for cui: String) -> Bool {
        let key = SourceCode(source: source, code: code)
        guard codeIndex[key] == nil else { return false }
        codeIndex[key] = cui
        return true
    }

    /// Adds one atom: a string naming a concept in a source. Returns false
    /// when the string is empty after normalisation (nothing to match).
    @discardableResult
    func addTerm(cui: String, text: String, source: String, termType: String, code: String?,
                 isPreferred: Bool, nameRank: Int) throws -> Bool {
        let normalized = normalizer.normalize(text)
        guard !normalized.isEmpty else { return false }
        guard normalized.utf8.count <= Self.maximumTermBytes else {
            counts.longTermsSkipped = (counts.longTermsSkipped ?? 0) + 1
            return false
        }
        let concept = conceptID(for: cui, name: text, rank: nameRank)
        let stringID: Int32
        if let existing = stringIDs[normalized] {
            stringID = existing
        } else {
            stringID = Int32(stringIDs.count + 1)
            stringIDs[normalized] = stringID
            try insertString.run(.integer(Int64(stringID)), .text(normalized))
            counts.strings += 1
        }
        if conceptOfString[stringID] == nil { conceptOfString[stringID] = cui }
        let sourceID = self.sourceID(source)
        if let code, Self.codeIndexedSources.contains(source) {
            let key = SourceCode(source: source, code: code)
            if codeIndex[key] == nil { codeIndex[key] = cui }
        }
        try insertTerm.run(.integer(Int64(concept)), .integer(Int64(stringID)), .text(text),
                           .integer(Int64(sourceID)), .text(termType), code.map(SQLValue.text) ?? .null,
                           .integer(isPreferred ? 1 : 0))
        counts.terms += 1
        return true
    }

    private func conceptID(for cui: String, name: String, rank: Int) -> Int32 {
        if let existing = conceptIDs[cui] {
            let index = Int(existing) - 1
            if rank < conceptDrafts[index].preferredRank {
                conceptDrafts[index].preferred = name
                conceptDrafts[index].preferredRank = rank
            }
            return existing
        }
        conceptDrafts.append(ConceptDraft(cui: cui, preferred: name, preferredRank: rank))
        let id = Int32(conceptDrafts.count)
        conceptIDs[cui] = id
        return id
    }

    private func sourceID(_ sab: String) -> Int32 {
        if let existing = sourceIDs[sab] { return existing }
        let id = Int32(sourceIDs.count + 1)
        sourceIDs[sab] = id
        return id
    }

    // MARK: Facts about known concepts (dropped for unknown concepts)

    @discardableResult
    func addSemanticType(cui: String, tui: String, name: String) throws -> Bool {
        guard let concept = conceptIDs[cui] else { return false }
        try insertSemanticType.run(.integer(Int64(concept)), .text(tui), .text(name))
        return true
    }

    @discardableResult
    func addDefinition(cui: String, source: String, text: String) throws -> Bool {
        guard let concept = conceptIDs[cui] else { return false }
        try insertDefinition.run(.integer(Int64(concept)), .integer(Int64(sourceID(source))), .text(text))
        counts.definitions += 1
        return true
    }

    @discardableResult
    func addRelation(from cui1: String, rel: String, rela: String, to cui2: String, source: String) throws -> Bool {
        guard let concept1 = conceptIDs[cui1], let concept2 = conceptIDs[cui2] else { return false }
        let key = RelationType(rel: rel, rela: rela)
        let typeID: Int32
        if let existing = relationTypeIDs[key] {
            typeID = existing
        } else {
            typeID = Int32(relationTypeIDs.count + 1)
            relationTypeIDs[key] = typeID
        }
        try insertRelation.run(.integer(Int64(concept1)), .integer(Int64(typeID)), .integer(Int64(concept2)),
                               .integer(Int64(sourceID(source))))
        counts.relations += 1
        return true
    }

    /// Writes a statement "subject PREDICATE object" (e.g. "seizure is_a
    /// abnormal nervous system physiology") as the two MRREL-style rows UMLS
    /// would hold: `(subject, rel, inverse_PREDICATE, object)` and
    /// `(object, inverseRel, PREDICATE, subject)`; in each, RELA is what the
    /// second concept is to the first.
    func addStatement(subject: String, predicate: String, object: String,
                      rel: String, inverseRel: String, source: String) throws {
        try addRelation(from: subject, rel: rel, rela: "inverse_" + predicate, to: object, source: source)
        try addRelation(from: object, rel: inverseRel, rela: predicate, to: subject, source: source)
    }

    @discardableResult
    func addXref(cui: String, xref: String) throws -> Bool {
        guard let concept = conceptIDs[cui] else { return false }
        try insertXref.run(.integer(Int64(concept)), .text(xref))
        counts.xrefs += 1
        return true
    }

    // MARK: Finishing

    /// Writes the in-memory tables, builds the indexes and closes the file.
    func finish() throws -> LexiconCounts {
        let insertConcept = try database.prepare("INSERT INTO concepts(id, cui, preferred) VALUES (?, ?, ?)")
        for (offset, draft) in conceptDrafts.enumerated() {
            try insertConcept.run(.integer(Int64(offset + 1)), .text(draft.cui), .text(draft.preferred))
        }
        counts.concepts = conceptDrafts.count
        let insertSource = try database.prepare("INSERT INTO sources(id, sab) VALUES (?, ?)")
        for (sab, id) in sourceIDs { try insertSource.run(.integer(Int64(id)), .text(sab)) }
        let insertType = try database.prepare("INSERT INTO relation_types(id, rel, rela) VALUES (?, ?, ?)")
        for (type, id) in relationTypeIDs { try insertType.run(.integer(Int64(id)), .text(type.rel), .text(type.rela)) }
        counts.relationTypes = relationTypeIDs.count
        try database.execute("COMMIT")
        // INSERT OR IGNORE may have skipped duplicates: count what is stored.
        counts.semanticTypes = Int(try database.scalarInt("SELECT count(*) FROM semantic_types") ?? 0)
        try database.execute(LexiconSchema.indexes)
        try database.execute("ANALYZE")
        return counts
    }
}
