import TGSupport

/// The rows of a shipped-style TSV file: `#` comments and blank lines
/// skipped, then `header` exactly, then rows of as many fields, each with
/// its line number. A wrong header or field count names the file and line.
func tsvRows(_ text: String, file: String, header: [String]) throws -> [(line: Int, fields: [String])] {
    var rows: [(line: Int, fields: [String])] = []
    var sawHeader = false
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        if !sawHeader {
            guard fields == header else {
                throw InputError(file: file, line: offset + 1, message: "expected the header " + header.joined(separator: "<TAB>"))
            }
            sawHeader = true
            continue
        }
        guard fields.count == header.count else {
            throw InputError(file: file, line: offset + 1, message: "\(fields.count) fields, expected \(header.count)")
        }
        rows.append((offset + 1, fields))
    }
    guard sawHeader else { throw InputError(file: file, message: "no header (" + header.joined(separator: "<TAB>") + ")") }
    return rows
}
