import Foundation
import TGSupport

/// Imports a UMLS release (or any vocabulary written in its Rich Release
/// Format) from a folder holding MRCONSO.RRF and optionally MRSTY, MRDEF and
/// MRREL. Every file is streamed row by row, so full UMLS needs memory only
/// for the concept and string tables, never for the files themselves.
struct UMLSImporter {
    let directory: String
    let languages: Set<String>
    let sourceVocabularies: Set<String>?
    let keepSuppressible: Bool
    let progress: (@Sendable (String) -> Void)?

    private static let suppressedFlags: Set<UInt8> = [UInt8(ascii: "O"), UInt8(ascii: "E"), UInt8(ascii: "Y")]

    private(set) var files: [LexiconManifest.FileRecord] = []
    private(set) var counts: [String: Int] = [:]

    init(directory: String, options: LexiconManifest.Options, progress: (@Sendable (String) -> Void)?) throws {
        // Accept the release folder itself or its META subfolder.
        var folder = directory
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: folder + "/MRCONSO.RRF"),
           fileManager.fileExists(atPath: folder + "/META/MRCONSO.RRF") {
            folder += "/META"
        }
        guard fileManager.fileExists(atPath: folder + "/MRCONSO.RRF") else {
            throw InputError(file: directory + "/MRCONSO.RRF", message: "missing: a UMLS folder needs MRCONSO.RRF")
        }
        self.directory = folder
        languages = Set(options.languages)
        sourceVocabularies = options.sourceVocabularies.map(Set.init)
        keepSuppressible = options.keepSuppressible
        self.progress = progress
    }

    private func path(_ table: RRFTable) -> String? {
        let path = directory + "/" + table.fileName
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    private func reader(_ table: RRFTable, _ path: String) -> RRFReader {
        RRFReader(path: path, table: table, progress: progress)
    }

    private func isSuppressed(_ row: RRFRow, column: Int) -> Bool {
        !keepSuppressible && row.field(column, isOneOf: Self.suppressedFlags)
    }

    private func keepsSource(_ sab: String) -> Bool {
        sourceVocabularies.map { $0.contains(sab) } ?? true
    }

    /// Phase 1: every kept MRCONSO atom becomes a term of its concept.
    mutating func importConcepts(into writer: LexiconWriter) throws {
        let table = RRFTable.mrconso
        let (cui, lat, ts, stt, ispref, sab, tty, code, str, suppress) = (
            table.column("CUI"), table.column("LAT"), table.column("TS"), table.column("STT"), table.column("ISPREF"),
            table.column("SAB"), table.column("TTY"), table.column("CODE"), table.column("STR"), table.column("SUPPRESS"))
        var rows = 0, kept = 0, otherLanguage = 0, otherSource = 0, suppressed = 0, empty = 0
        let record = try reader(table, directory + "/" + table.fileName).forEachRow { row in
            rows += 1
            guard languages.contains(try row.text(lat)) else { otherLanguage += 1; return }
            let source = try row.text(sab)
            guard keepsSource(source) else { otherSource += 1; return }
            guard !isSuppressed(row, column: suppress) else { suppressed += 1; return }
            let conceptPreferred = row.field(ts, equals: "P") && row.field(stt, equals: "PF") && row.field(ispref, equals: "Y")
            let added = try writer.addTerm(
                cui: try row.identifier(cui), text: try row.text(str), source: source, termType: try row.text(tty),
                code: row.isEmpty(code) ? nil : try row.text(code), isPreferred: conceptPreferred,
                nameRank: conceptPreferred ? LexiconWriter.NameRank.umlsPreferred : LexiconWriter.NameRank.other)
            if added { kept += 1 } else { empty += 1 }
        }
        files.append(record)
        counts["MRCONSO.rows"] = rows
        counts["MRCONSO.kept"] = kept
        counts["MRCONSO.otherLanguage"] = otherLanguage
        counts["MRCONSO.otherSource"] = otherSource
        counts["MRCONSO.suppressed"] = suppressed
        counts["MRCONSO.emptyString"] = empty
    }

    /// Phase 2: semantic types, definitions and relations of kept concepts.
    /// Runs after every source has added its concepts, so relations can join
    /// concepts that came from different sources.
    mutating func importFacts(into writer: LexiconWriter) throws {
        if let path = path(.mrsty) { try importSemanticTypes(path, into: writer) }
        if let path = path(.mrdef) { try importDefinitions(path, into: writer) }
        if let path = path(.mrrel) { try importRelations(path, into: writer) }
    }

    private mutating func importSemanticTypes(_ path: String, into writer: LexiconWriter) throws {
        let table = RRFTable.mrsty
        let (cui, tui, sty) = (table.column("CUI"), table.column("TUI"), table.column("STY"))
        var rows = 0, kept = 0
        files.append(try reader(table, path).forEachRow { row in
            rows += 1
            if try writer.addSemanticType(cui: try row.identifier(cui), tui: try row.text(tui), name: try row.text(sty)) {
                kept += 1
            }
        })
        counts["MRSTY.rows"] = rows
        counts["MRSTY.kept"] = kept
    }

    private mutating func importDefinitions(_ path: String, into writer: LexiconWriter) throws {
        let table = RRFTable.mrdef
        let (cui, sab, def, suppress) = (table.column("CUI"), table.column("SAB"), table.column("DEF"),
                                         table.column("SUPPRESS"))
        var rows = 0, kept = 0
        files.append(try reader(table, path).forEachRow { row in
            rows += 1
            let source = try row.text(sab)
            guard keepsSource(source), !isSuppressed(row, column: suppress) else { return }
            if try writer.addDefinition(cui: try row.identifier(cui), source: source, text: try row.text(def)) { kept += 1 }
        })
        counts["MRDEF.rows"] = rows
        counts["MRDEF.kept"] = kept
    }

    private mutating func importRelations(_ path: String, into writer: LexiconWriter) throws {
        let table = RRFTable.mrrel
        let (cui1, rel, cui2, rela, sab, suppress) = (table.column("CUI1"), table.column("REL"), table.column("CUI2"),
                                                      table.column("RELA"), table.column("SAB"), table.column("SUPPRESS"))
        var rows = 0, kept = 0, filtered = 0, unknownConcept = 0
        files.append(try reader(table, path).forEachRow { row in
            rows += 1
            let source = try row.text(sab)
            guard keepsSource(source), !isSuppressed(row, column: suppress) else { filtered += 1; return }
            let added = try writer.addRelation(from: try row.identifier(cui1), rel: try row.text(rel), rela: try row.text(rela),
                                               to: try row.identifier(cui2), source: source)
            if added { kept += 1 } else { unknownConcept += 1 }
        })
        counts["MRREL.rows"] = rows
        counts["MRREL.kept"] = kept
        counts["MRREL.filtered"] = filtered
        counts["MRREL.unknownConcept"] = unknownConcept
    }
}
