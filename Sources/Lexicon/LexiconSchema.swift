/// The SQLite layout of a lexicon (`lexicon.sqlite`).
///
/// Concepts, strings, sources and relation types are small integer keys, so
/// that the large tables (atoms, relations: tens of millions of rows for full
/// UMLS) stay compact. Indexes are created after the bulk load, which is
/// several times faster than maintaining them row by row.
///
/// Relations follow the UMLS reading of MRREL: a row `(concept1, REL/RELA,
/// concept2)` says that concept2 stands in relation REL (more specifically
/// RELA) to concept1; e.g. `(child, PAR, parent)` with RELA `inverse_isa`.
/// Our own importers write both directions, as UMLS does.
enum LexiconSchema {
    static let formatVersion = 1
    static let databaseFileName = "lexicon.sqlite"
    static let manifestFileName = "manifest.json"
    static let approximateIndexFileName = "strings.simstring"

    static let tables = """
    CREATE TABLE concepts (
        id INTEGER PRIMARY KEY,
        cui TEXT NOT NULL,
        preferred TEXT NOT NULL
    );
    CREATE TABLE strings (
        id INTEGER PRIMARY KEY,
        norm TEXT NOT NULL
    );
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        sab TEXT NOT NULL UNIQUE
    );
    CREATE TABLE terms (
        concept INTEGER NOT NULL,
        string INTEGER NOT NULL,
        text TEXT NOT NULL,
        source INTEGER NOT NULL,
        tty TEXT NOT NULL,
        code TEXT,
        preferred INTEGER NOT NULL
    );
    CREATE TABLE semantic_types (
        concept INTEGER NOT NULL,
        tui TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (concept, tui)
    ) WITHOUT ROWID;
    CREATE TABLE definitions (
        concept INTEGER NOT NULL,
        source INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE TABLE relation_types (
        id INTEGER PRIMARY KEY,
        rel TEXT NOT NULL,
        rela TEXT NOT NULL,
        UNIQUE (rel, rela)
    );
    CREATE TABLE relations (
        concept1 INTEGER NOT NULL,
        type INTEGER NOT NULL,
        concept2 INTEGER NOT NULL,
        source INTEGER NOT NULL
    );
    CREATE TABLE xrefs (
        concept INTEGER NOT NULL,
        xref TEXT NOT NULL
    );
    """

    static let indexes = """
    CREATE UNIQUE INDEX concepts_by_cui ON concepts(cui);
    CREATE UNIQUE INDEX strings_by_norm ON strings(norm);
    CREATE INDEX terms_by_string ON terms(string);
    CREATE INDEX terms_by_concept ON terms(concept);
    CREATE INDEX terms_by_code ON terms(code) WHERE code IS NOT NULL;
    CREATE INDEX definitions_by_concept ON definitions(concept);
    CREATE INDEX relations_from ON relations(concept1);
    CREATE INDEX relations_to ON relations(concept2);
    CREATE INDEX xrefs_by_xref ON xrefs(xref);
    CREATE INDEX xrefs_by_concept ON xrefs(concept);
    """

    /// Settings for a one-shot bulk build into a fresh file: durability is
    /// provided by building in a staging folder, not by the journal.
    static let bulkLoadPragmas = """
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    PRAGMA locking_mode = EXCLUSIVE;
    PRAGMA temp_store = FILE;
    PRAGMA cache_size = -524288;
    PRAGMA page_size = 8192;
    PRAGMA threads = 2;
    PRAGMA analysis_limit = 1000;
    """
}
