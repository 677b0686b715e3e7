import SQLiteDB

/// The lexicon's string → concept mapping held in memory for fast matching:
/// for every normalised string (by SimString id), the concepts it names and
/// whether it is a preferred name of each; for every concept, its id,
/// preferred name and semantic types. Immutable, so one table serves every
/// thread.
public struct ConceptTable: Sendable {
    public struct Concept: Sendable, Equatable {
        public var cui: String
        public var preferredName: String
        public var semanticTypes: [String]
    }

    public struct Entry: Sendable, Equatable {
        /// Index into `concepts`.
        public var concept: Int
        /// The string is a preferred term of the concept.
        public var preferred: Bool
    }

    public let concepts: [Concept]
    private let entryStarts: [Int32]
    private let entries: [Entry]

    /// The concepts named by the string with SimString id `id`.
    public func entries(forString id: Int) -> ArraySlice<Entry> {
        guard id >= 0, id + 1 < entryStarts.count else { return [] }
        return entries[Int(entryStarts[id])..<Int(entryStarts[id + 1])]
    }

    init(database: Database, stringCount: Int) throws {
        var concepts: [Concept] = []
        var position: [Int64: Int] = [:]
        let conceptRows = try database.prepare("SELECT id, cui, preferred FROM concepts ORDER BY id")
        try conceptRows.bind([])
        while try conceptRows.step() {
            position[conceptRows.int(0)] = concepts.count
            concepts.append(Concept(cui: conceptRows.text(1), preferredName: conceptRows.text(2), semanticTypes: []))
        }
        let types = try database.prepare("SELECT concept, tui FROM semantic_types ORDER BY concept, tui")
        try types.bind([])
        while try types.step() {
            if let index = position[types.int(0)] { concepts[index].semanticTypes.append(types.text(1)) }
        }
        var starts = [Int32](repeating: 0, count: stringCount + 1)
        var entries: [Entry] = []
        let rows = try database.prepare(
            "SELECT string, concept, max(preferred) FROM terms GROUP BY string, concept ORDER BY string, concept")
        try rows.bind([])
        var current = 0
        while try rows.step() {
            let string = Int(rows.int(0)) - 1
            guard string >= 0, string < stringCount, let concept = position[rows.int(1)] else { continue }
            while current < string {
                current += 1
                starts[current] = Int32(entries.count)
            }
            entries.append(Entry(concept: concept, preferred: rows.int(2) != 0))
        }
        while current < stringCount {
            current += 1
            starts[current] = Int32(entries.count)
        }
        self.concepts = concepts
        self.entries = entries
        entryStarts = starts
    }
}

extension LexiconStore {
    /// Loads the in-memory string → concept table for matching.
    public func loadConceptTable() throws -> ConceptTable {
        try ConceptTable(database: database, stringCount: manifest.counts.strings)
    }
}
