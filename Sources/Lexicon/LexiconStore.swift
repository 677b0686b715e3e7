import Foundation
import SimString
import SQLiteDB
import TGSupport

/// A built lexicon, opened read-only.
///
/// Opening checks that the folder is complete (manifest present, format
/// understood, database of the recorded size), so a stage never works on a
/// half-copied or foreign folder. A store wraps one SQLite connection: use
/// one store per thread.
public final class LexiconStore {
    public let directory: String
    public let manifest: LexiconManifest
    public let normalizer: TermNormalizer
    let database: Database

    public init(directory: String) throws {
        self.directory = directory
        let manifestPath = directory + "/" + LexiconSchema.manifestFileName
        manifest = try LexiconManifest.load(from: manifestPath)
        guard manifest.formatVersion == LexiconSchema.formatVersion else {
            throw InputError(file: manifestPath, field: "formatVersion",
                             message: "lexicon format \(manifest.formatVersion) is not supported (this tool reads \(LexiconSchema.formatVersion)); rebuild the lexicon")
        }
        guard manifest.normalization.algorithmVersion == TermNormalizer.algorithmVersion else {
            throw InputError(file: manifestPath, field: "normalization.algorithmVersion",
                             message: "built with normaliser version \(manifest.normalization.algorithmVersion), this tool has \(TermNormalizer.algorithmVersion); rebuild the lexicon")
        }
        let databasePath = directory + "/" + LexiconSchema.databaseFileName
        let size = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? NSNumber)?.uint64Value
        guard let size else { throw InputError(file: databasePath, message: "missing lexicon database") }
        guard size == manifest.database.bytes else {
            throw InputError(file: databasePath,
                             message: "size \(size) bytes differs from the manifest's \(manifest.database.bytes): the lexicon is damaged or incomplete")
        }
        database = try Database(path: databasePath, mode: .readOnly)
        normalizer = manifest.normalization.normalizer
    }

    /// Opens the lexicon's SimString index (memory-mapped; share one across
    /// threads). Its string ids are the lexicon's string ids minus one.
    /// The body checksum is checked the first time the unchanged file is
    /// opened (see `SimStringIndex.Verification.once`); `verify` checks it
    /// at every open.
    public func openApproximateIndex(verify: Bool = false) throws -> SimStringIndex {
        let record = manifest.approximateIndex
        let path = directory + "/" + record.file
        let index: SimStringIndex
        do {
            // Checked in full the first time (and after any change), then by its stamp.
            index = try SimStringIndex(path: path, verification: verify ? .always : .once)
        } catch let error as SimStringError {
            let prefix = path + ": "
            var message = error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message
            if error.isUnsupportedVersion { message += " with `thinkgraph lexicon reindex \(directory)`" }
            throw InputError(file: path, message: message)
        }
        guard index.count == record.strings, index.count == manifest.counts.strings,
              index.settings == FeatureSettings(n: record.ngram, marks: record.marks, unicode: record.unicode) else {
            throw InputError(file: path, message: "holds \(index.count) strings, the lexicon \(manifest.counts.strings): rebuild the lexicon")
        }
        return index
    }

    /// A concept as `lookup` shows it.
    public struct ConceptSummary: Sendable, Equatable, Codable {
        public var cui: String
        public var preferred: String
        public var semanticTypes: [SemanticType]
        public var sources: [String]
        /// Terms of this concept whose normalised form matched.
        public var matchedTerms: [String]
        public var relationsOut: Int
        public var relationsIn: Int
    }

    public struct SemanticType: Sendable, Equatable, Codable {
        public var tui: String
        public var name: String
    }

    /// The concepts having a term whose normalised form equals `term`'s.
    public func lookup(_ term: String) throws -> [ConceptSummary] {
        let normalized = normalizer.normalize(term)
        let concepts = try database.prepare("""
            SELECT DISTINCT c.id, c.cui, c.preferred, s.id
            FROM strings s JOIN terms t ON t.string = s.id JOIN concepts c ON c.id = t.concept
            WHERE s.norm = ? ORDER BY c.cui
            """).rows(.text(normalized)) { row in
            (row.int(0), row.text(1), row.text(2), row.int(3))
        }
        let matchedTerms = try database.prepare(
            "SELECT DISTINCT text FROM terms WHERE concept = ? AND string = ? ORDER BY text")
        return try concepts.map { id, cui, preferred, stringID in
            var concept = try summary(id: id, cui: cui, preferred: preferred)
            concept.matchedTerms = try matchedTerms.rows(.integer(id), .integer(stringID)) { $0.text(0) }
            return concept
        }
    }

    /// The concept with this id (CUI or source-prefixed id), if present.
    public func concept(cui: String) throws -> ConceptSummary? {
        let rows = try database.prepare("SELECT id, preferred FROM concepts WHERE cui = ?").rows(.text(cui)) {
            ($0.int(0), $0.text(1))
        }
        guard let (id, preferred) = rows.first else { return nil }
        return try summary(id: id, cui: cui, preferred: preferred)
    }

    /// Every semantic type (TUI) some concept of the lexicon has.
    public func semanticTypeIDs() throws -> Set<String> {
        Set(try database.prepare("SELECT DISTINCT tui FROM semantic_types").rows { $0.text(0) })
    }

    private func summary(id: Int64, cui: String, preferred: String) throws -> ConceptSummary {
        let semanticTypes = try database.prepare(
            "SELECT tui, name FROM semantic_types WHERE concept = ? ORDER BY tui").rows(.integer(id)) {
            SemanticType(tui: $0.text(0), name: $0.text(1))
        }
        let sources = try database.prepare("""
            SELECT DISTINCT s.sab FROM terms t JOIN sources s ON s.id = t.source WHERE t.concept = ? ORDER BY s.sab
            """).rows(.integer(id)) { $0.text(0) }
        let out = try database.scalarInt("SELECT count(*) FROM relations WHERE concept1 = ?", .integer(id)) ?? 0
        let into = try database.scalarInt("SELECT count(*) FROM relations WHERE concept2 = ?", .integer(id)) ?? 0
        return ConceptSummary(cui: cui, preferred: preferred, semanticTypes: semanticTypes, sources: sources,
                              matchedTerms: [], relationsOut: Int(out), relationsIn: Int(into))
    }

    /// Number of terms per source vocabulary.
    public func termsPerSource() throws -> [(source: String, terms: Int)] {
        try database.prepare("""
            SELECT s.sab, count(*) FROM terms t JOIN sources s ON s.id = t.source GROUP BY s.sab ORDER BY s.sab
            """).rows { ($0.text(0), Int($0.int(1))) }
    }

    /// Number of relations per relation label (REL/RELA), most frequent first.
    public func relationsPerType(limit: Int = 20) throws -> [(rel: String, rela: String, count: Int)] {
        try database.prepare("""
            SELECT rt.rel, rt.rela, count(*) AS n FROM relations r JOIN relation_types rt ON rt.id = r.type
            GROUP BY r.type ORDER BY n DESC, rt.rel, rt.rela LIMIT ?
            """).rows(.integer(Int64(limit))) { ($0.text(0), $0.text(1), Int($0.int(2))) }
    }

    /// Number of relations per source (SAB) and label, by source then most
    /// frequent first; each statement counted once (its inverse rows, whose
    /// labels start with `inverse_`, left out).
    public func relationsPerSource() throws -> [(source: String, rela: String, count: Int)] {
        try database.prepare("""
            SELECT s.sab, rt.rela, count(*) AS n FROM relations r JOIN relation_types rt ON rt.id = r.type
            JOIN sources s ON s.id = r.source WHERE rt.rela NOT LIKE 'inverse\\_%' ESCAPE '\\'
            GROUP BY s.sab, rt.rela ORDER BY s.sab, n DESC, rt.rela
            """).rows { ($0.text(0), $0.text(1), Int($0.int(2))) }
    }

    /// The lexicon database's path (its modification time dates what is
    /// derived from it, as the relation graph).
    public var databasePath: String { directory + "/" + LexiconSchema.databaseFileName }

    /// Every concept's row id, ascending: the relation graph numbers its
    /// nodes in this order.
    public func forEachConceptRowID(_ body: (Int64) throws -> Void) throws {
        let statement = try database.prepare("SELECT id FROM concepts ORDER BY id")
        try statement.bind([])
        while try statement.step() { try body(statement.int(0)) }
        statement.reset()
    }

    /// Every relation type: its row id, REL and RELA (empty when none).
    public func relationTypes() throws -> [(id: Int64, rel: String, rela: String)] {
        try database.prepare("SELECT id, rel, rela FROM relation_types ORDER BY id").rows { ($0.int(0), $0.text(1), $0.text(2)) }
    }

    /// Every relation as (concept row id, relation type row id, concept row
    /// id), in storage order: one statement of "concept2 is REL of concept1".
    public func forEachRelation(_ body: (_ from: Int64, _ type: Int64, _ to: Int64) throws -> Void) throws {
        let statement = try database.prepare("SELECT concept1, type, concept2 FROM relations")
        try statement.bind([])
        while try statement.step() { try body(statement.int(0), statement.int(1), statement.int(2)) }
        statement.reset()
    }

    /// Every normalised string with its id, in id order: what the
    /// approximate-string index is built over.
    public func forEachString(_ body: (Int64, String) throws -> Void) throws {
        try Self.forEachString(in: database, body)
    }

    /// The same over a lexicon database not opened as a store (the
    /// builder's staged one).
    static func forEachString(in database: Database, _ body: (Int64, String) throws -> Void) throws {
        let statement = try database.prepare("SELECT id, norm FROM strings ORDER BY id")
        try statement.bind([])
        while try statement.step() { try body(statement.int(0), statement.text(1)) }
        statement.reset()
    }

    /// Code → concept id (CUI) for one source's codes, keyed by the code
    /// upper-cased without dots (`J44.1` and MIMIC's `J441` meet); where a
    /// code names several concepts, the one it is a preferred term of wins.
    public func conceptsByCode(source: String) throws -> [String: String] {
        var result: [String: (cui: String, preferred: Bool)] = [:]
        let rows = try database.prepare("""
            SELECT t.code, c.cui, t.preferred FROM terms t JOIN sources s ON s.id = t.source
            JOIN concepts c ON c.id = t.concept WHERE s.sab = ? AND t.code IS NOT NULL ORDER BY c.cui
            """)
        try rows.bind([.text(source)])
        while try rows.step() {
            let key = Self.codeKey(rows.text(0))
            let entry = (cui: rows.text(1), preferred: rows.int(2) != 0)
            if let existing = result[key], existing.preferred || !entry.preferred { continue }
            result[key] = entry
        }
        rows.reset()
        return result.mapValues(\.cui)
    }

    /// A code as `conceptsByCode` keys it.
    public static func codeKey(_ code: String) -> String {
        String(code.uppercased().filter { $0 != "." && $0 != " " })
    }

    /// Codes filed by one source (e.g. every ICD10CM code).
    public func codes(source: String) throws -> Set<String> {
        let codes = try database.prepare("""
            SELECT DISTINCT t.code FROM terms t JOIN sources s ON s.id = t.source WHERE s.sab = ? AND t.code IS NOT NULL
            """).rows(.text(source)) { $0.text(0) }
        return Set(codes)
    }
}
