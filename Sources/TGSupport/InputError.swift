/// An error in a user's input file, located as precisely as we can: file, line,
/// and the column or named field where the problem is. Every importer reports
/// bad input through this type so messages read the same everywhere:
///
///     MRCONSO.RRF:12: field STR (15): invalid UTF-8
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        if let field { return "\(location): field \(field): \(message)" }
        return "\(location): \(message)"
    }
}

/// A failure that is not tied to a line of input (a missing option, a folder
/// that already exists): it carries only its message.
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
