import TGSupport

/// Reads RFC 4180 CSV (MIMIC-IV's format) record by record: fields may be
/// quoted, quotes inside doubled, and a quoted field may span lines (note
/// text does). Reports the line a record starts on, so errors point at the
/// row a user would look for.
public final class CSVReader {
    public let path: String
    private let reader: LineReader
    /// The header's column names.
    public private(set) var header: [String] = []
    /// 1-based line on which the last record returned starts.
    public private(set) var recordLine = 0
    /// The field separator: a comma, or a tab for tab-separated files.
    public private(set) var delimiter: UInt8 = 0x2C

    /// `detectTabs`: a header with tabs and no comma makes the file
    /// tab-separated (OMOP CDM and Athena vocabulary files are written
    /// either way).
    public init(path: String, detectTabs: Bool = false) throws {
        self.path = path
        reader = try LineReader(path: path)
        guard var first = try readRecord() else {
            throw InputError(file: path, line: 1, message: "empty file (expected a header row)")
        }
        if detectTabs, first.count == 1, first[0].contains("\t") {
            delimiter = 0x09
            first = first[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        header = first
    }

    /// Lower-cases the header's names, for formats whose column names are
    /// written in either case (OMOP CDM: `person_id` or `PERSON_ID`).
    public func lowercaseHeader() {
        header = header.map { $0.lowercased() }
    }

    /// The position of each of `columns` in the header; throws naming the
    /// first missing one.
    public func columns(_ columns: [String]) throws -> [Int] {
        try columns.map { name in
            guard let index = header.firstIndex(of: name) else {
                throw InputError(file: path, line: 1, field: name, message: "missing column (header has: \(header.joined(separator: ", ")))")
            }
            return index
        }
    }

    /// The next record's fields, or nil at the end. A record with a
    /// different number of fields than the header is an error.
    public func next() throws -> [String]? {
        guard let record = try readRecord() else { return nil }
        guard record.count == header.count else {
            throw InputError(file: path, line: recordLine,
                             message: "\(record.count) fields, the header has \(header.count)")
        }
        return record
    }

    /// Parses one record. Unquoted fields are decoded straight from the
    /// line buffer; only quoted fields (which may hold quotes, commas and
    /// newlines) are assembled byte by byte.
    private func readRecord() throws -> [String]? {
        var fields: [String] = []
        fields.reserveCapacity(header.count)
        var quoted: [UInt8] = []
        var inQuotes = false
        var started = false
        while let line = try reader.nextLine() {
            if !started {
                // Blank lines between records carry nothing.
                if line.isEmpty { continue }
                started = true
                recordLine = reader.lineNumber
            } else {
                // Still inside a quoted field: the newline is part of it.
                quoted.append(0x0A)
            }
            var index = 0
            let count = line.count
            while true {
                if inQuotes {
                    // Inside quotes: copy until the closing quote.
                    while index < count {
                        let byte = line[index]
                        if byte == 0x22 {
                            if index + 1 < count, line[index + 1] == 0x22 {
                                quoted.append(0x22)
                                index += 2
                                continue
                            }
                            inQuotes = false
                            index += 1
                            break
                        }
                        quoted.append(byte)
                        index += 1
                    }
                    if inQuotes { break }  // the field goes on on the next line
                    // After the closing quote: anything up to the comma is
                    // kept (lenient, as Python's csv module is).
                    while index < count, line[index] != delimiter {
                        quoted.append(line[index])
                        index += 1
                    }
                    fields.append(try decode(UnsafeBufferPointer(start: nil, count: 0), quoted: quoted, fieldIndex: fields.count))
                    quoted.removeAll(keepingCapacity: true)
                    if index >= count { return fields }
                    index += 1  // the comma
                    continue
                }
                if index < count, line[index] == 0x22 {
                    inQuotes = true
                    index += 1
                    continue
                }
                var end = index
                while end < count, line[end] != delimiter { end += 1 }
                fields.append(try decode(UnsafeBufferPointer(rebasing: line[index..<end]), quoted: nil, fieldIndex: fields.count))
                if end >= count { return fields }
                index = end + 1
                if index == count {
                    // A trailing comma: one more, empty field.
                    fields.append("")
                    return fields
                }
            }
        }
        if inQuotes { throw InputError(file: path, line: recordLine, message: "unterminated quoted field") }
        return nil
    }

    private func decode(_ bytes: UnsafeBufferPointer<UInt8>, quoted: [UInt8]?, fieldIndex: Int) throws -> String {
        let text = quoted.map { $0.withUnsafeBufferPointer(decodeUTF8) } ?? decodeUTF8(bytes)
        guard let text else {
            throw InputError(file: path, line: recordLine, field: header.indices.contains(fieldIndex) ? header[fieldIndex] : nil,
                             message: "invalid UTF-8")
        }
        return text
    }
}
