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
    private var fields: [String] = []
    private var field: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        reader = try LineReader(path: path)
        guard let first = try readRecord() else {
            throw InputError(file: path, line: 1, message: "empty file (expected a header row)")
        }
        header = first
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

    private func readRecord() throws -> [String]? {
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
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
                field.append(0x0A)
            }
            var index = 0
            let count = line.count
            var fieldWasQuoted = false
            while index < count {
                let byte = line[index]
                if inQuotes {
                    if byte == 0x22 {
                        if index + 1 < count, line[index + 1] == 0x22 {
                            field.append(0x22)
                            index += 2
                            continue
                        }
                        inQuotes = false
                    } else {
                        field.append(byte)
                    }
                } else if byte == 0x22, field.isEmpty, !fieldWasQuoted {
                    inQuotes = true
                    fieldWasQuoted = true
                } else if byte == 0x2C {
                    try finishField()
                    fieldWasQuoted = false
                } else {
                    field.append(byte)
                }
                index += 1
            }
            if !inQuotes {
                try finishField()
                return fields
            }
        }
        if inQuotes { throw InputError(file: path, line: recordLine, message: "unterminated quoted field") }
        return nil
    }

    private func finishField() throws {
        guard let text = field.withUnsafeBufferPointer({ decodeUTF8($0) }) else {
            throw InputError(file: path, line: recordLine, field: header.indices.contains(fields.count) ? header[fields.count] : nil,
                             message: "invalid UTF-8")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
    }
}
