import Foundation
import SQLiteDB
import TGSupport

/// Writes a lexicon back out as UMLS RRF (MRCONSO.RRF and MRSTY.RRF), so
/// that tools which install from UMLS files (QuickUMLS) read exactly the
/// strings and concepts we match against.
///
/// Each term becomes one English MRCONSO row (TS `P` and ISPREF `Y` for
/// preferred terms, `S`/`N` otherwise; the term's source, type and code;
/// AUIs numbered). Concepts without semantic types get `defaultSemanticType`
/// in MRSTY, since such tools drop concepts that have none.
public struct RRFExporter {
    public var defaultSemanticType: (tui: String, name: String)? = ("T047", "Disease or Syndrome")

    public init() {}

    public func export(_ store: LexiconStore, to directory: String) throws -> (conso: Int, sty: Int) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var conso = 0, sty = 0
        try writeAtomically(directory + "/MRCONSO.RRF") { write in
            let rows = try store.database.prepare("""
                SELECT c.cui, t.preferred, s.sab, t.tty, t.code, t.text
                FROM terms t JOIN concepts c ON c.id = t.concept JOIN sources s ON s.id = t.source
                ORDER BY t.concept, t.rowid
                """)
            try rows.bind([])
            while try rows.step() {
                conso += 1
                let preferred = rows.int(1) != 0
                let fields = [
                    rows.text(0), "ENG", preferred ? "P" : "S", "", "PF", "", preferred ? "Y" : "N",
                    String(format: "A%08d", conso), "", "", "", rows.text(2), rows.text(3), rows.optionalText(4) ?? "",
                    Self.clean(rows.text(5)), "0", "N", "",
                ]
                write(fields.joined(separator: "|") + "|\n")
            }
        }
        try writeAtomically(directory + "/MRSTY.RRF") { write in
            let rows = try store.database.prepare("""
                SELECT c.cui, st.tui, st.name FROM concepts c LEFT JOIN semantic_types st ON st.concept = c.id
                ORDER BY c.id, st.tui
                """)
            try rows.bind([])
            while try rows.step() {
                let cui = rows.text(0)
                if let tui = rows.optionalText(1) {
                    write("\(cui)|\(tui)||\(rows.text(2))|||\n")
                } else if let fallback = defaultSemanticType {
                    write("\(cui)|\(fallback.tui)||\(fallback.name)|||\n")
                } else {
                    continue
                }
                sty += 1
            }
        }
        return (conso, sty)
    }

    /// RRF cannot hold '|' or line breaks inside a field.
    private static func clean(_ text: String) -> String {
        String(text.map { $0 == "|" || $0.isNewline ? " " : $0 })
    }

    private func writeAtomically(_ path: String, _ body: ((String) -> Void) throws -> Void) throws {
        Debris.sweep((path as NSString).deletingLastPathComponent)
        let partial = path + ".partial-" + Debris.tag
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw InputError(file: path, message: "cannot create")
        }
        var buffer = Data()
        do {
            try body { text in
                buffer.append(contentsOf: text.utf8)
                if buffer.count >= 1 << 20 {
                    handle.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            handle.write(buffer)
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        try SafeReplace.move(partial, to: path)
    }
}
