import TGSupport

/// The layout of one UMLS Rich Release Format file: pipe-delimited, one row
/// a line, every row ending in a pipe.
struct RRFTable: Sendable {
    let fileName: String
    let columns: [String]

    static let mrconso = RRFTable(fileName: "MRCONSO.RRF", columns: [
        "CUI", "LAT", "TS", "LUI", "STT", "SUI", "ISPREF", "AUI", "SAUI", "SCUI", "SDUI", "SAB", "TTY", "CODE",
        "STR", "SRL", "SUPPRESS", "CVF",
    ])
    static let mrsty = RRFTable(fileName: "MRSTY.RRF", columns: ["CUI", "TUI", "STN", "STY", "ATUI", "CVF"])
    static let mrdef = RRFTable(fileName: "MRDEF.RRF", columns: [
        "CUI", "AUI", "ATUI", "SATUI", "SAB", "DEF", "SUPPRESS", "CVF",
    ])
    static let mrrel = RRFTable(fileName: "MRREL.RRF", columns: [
        "CUI1", "AUI1", "STYPE1", "REL", "CUI2", "AUI2", "STYPE2", "RELA", "RUI", "SRUI", "SAB", "SL", "RG", "DIR",
        "SUPPRESS", "CVF",
    ])

    func column(_ name: String) -> Int {
        guard let index = columns.firstIndex(of: name) else { preconditionFailure("\(fileName) has no column \(name)") }
        return index
    }
}

/// One row of an RRF file, valid only inside the callback that receives it.
/// Fields are decoded on demand, so a filtered-out row costs no allocation.
struct RRFRow {
    let line: UnsafeBufferPointer<UInt8>
    let fields: [Range<Int>]
    let table: RRFTable
    let path: String
    let lineNumber: Int

    /// The field as text; invalid UTF-8 is an input error naming the field.
    func text(_ column: Int) throws -> String {
        let range = fields[column]
        let bytes = UnsafeBufferPointer(rebasing: line[range])
        guard !bytes.contains(0) else {
            throw InputError(file: path, line: lineNumber, field: "\(table.columns[column]) (\(column + 1))", message: "NUL byte")
        }
        guard let text = decodeUTF8(bytes) else {
            throw InputError(file: path, line: lineNumber, field: "\(table.columns[column]) (\(column + 1))",
                             message: "invalid UTF-8")
        }
        return text
    }

    /// A concept identifier: text that is not empty and has no space or
    /// control character (an empty CUI would make a concept named '').
    func identifier(_ column: Int) throws -> String {
        let value = try text(column)
        guard !value.isEmpty, !value.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw InputError(file: path, line: lineNumber, field: "\(table.columns[column]) (\(column + 1))",
                             message: value.isEmpty ? "empty identifier" : "identifier with a space or control character")
        }
        return value
    }

    func isEmpty(_ column: Int) -> Bool { fields[column].isEmpty }

    /// Compares a field with ASCII text without decoding it.
    func field(_ column: Int, equals ascii: String) -> Bool {
        let range = fields[column]
        var expected = ascii
        return expected.withUTF8 { wanted in
            guard wanted.count == range.count else { return false }
            for offset in 0..<wanted.count where line[range.lowerBound + offset] != wanted[offset] { return false }
            return true
        }
    }

    /// True when the field is one of the one-letter codes in `letters`.
    func field(_ column: Int, isOneOf letters: Set<UInt8>) -> Bool {
        let range = fields[column]
        return range.count == 1 && letters.contains(line[range.lowerBound])
    }
}

/// Streams the rows of one RRF file, checking each row's shape.
struct RRFReader {
    let path: String
    let table: RRFTable
    /// Called every `progressInterval` rows with the row count.
    var progress: (@Sendable (String) -> Void)?
    var progressInterval = 1_000_000

    /// Reads every row; returns the file's size and SHA-256.
    func forEachRow(_ body: (RRFRow) throws -> Void) throws -> LexiconManifest.FileRecord {
        let reader = try LineReader(path: path, computeDigest: true)
        var fields: [Range<Int>] = []
        fields.reserveCapacity(table.columns.count + 2)
        let expected = table.columns.count
        var rows = 0
        while let line = try reader.nextLine() {
            if line.isEmpty { continue }
            splitFields(line, separator: UInt8(ascii: "|"), into: &fields)
            // A well-formed row has one more (empty) piece after the final pipe.
            guard fields.count == expected + 1, fields[expected].isEmpty else {
                let found = fields.last?.isEmpty == true ? fields.count - 1 : fields.count
                let detail = found == expected ? "missing the trailing '|'" : "expected \(expected) fields, found \(found)"
                throw InputError(file: path, line: reader.lineNumber, message: "malformed \(table.fileName) row: \(detail)")
            }
            try body(RRFRow(line: line, fields: fields, table: table, path: path, lineNumber: reader.lineNumber))
            rows += 1
            if let progress, rows % progressInterval == 0 {
                progress("\(table.fileName): \(rows / 1_000_000)M rows")
            }
        }
        return LexiconManifest.FileRecord(path: path, bytes: reader.bytesRead, sha256: reader.hexDigest())
    }
}
