/// Reads the fields of one JSON record strictly: a missing field, or one
/// of another type, is an error naming the file, the line and the field's
/// path (`paths[2].hops`), never a default. Stage records are read with
/// it, so a record written by another version of a stage fails loudly
/// instead of losing data quietly.
public struct RecordFields {
    public let value: JSONValue
    public let file: String
    public let line: Int?
    /// The path of this object inside the record ("" at the top).
    public let path: String

    public init(_ value: JSONValue, file: String, line: Int?, path: String = "") throws {
        guard value.objectValue != nil else {
            throw InputError(file: file, line: line, field: path.isEmpty ? nil : path, message: "expected a JSON object")
        }
        self.value = value
        self.file = file
        self.line = line
        self.path = path
    }

    /// The full path of a field of this object, as errors name it.
    public func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// An error about a field of this object.
    public func error(_ key: String, _ message: String) -> InputError {
        InputError(file: file, line: line, field: name(key), message: message)
    }

    public func has(_ key: String) -> Bool { value[key] != nil && value[key] != .null }

    public func string(_ key: String) throws -> String {
        guard let field = value[key] else { throw error(key, "missing") }
        guard let text = field.stringValue else { throw error(key, "expected a string") }
        return text
    }

    /// A string field that may be absent (nil), but not of another type.
    public func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    public func double(_ key: String) throws -> Double {
        guard let field = value[key] else { throw error(key, "missing") }
        guard let number = field.doubleValue else { throw error(key, "expected a number") }
        return number
    }

    public func int(_ key: String) throws -> Int { Int(try int64(key)) }

    /// A whole number: exact when written as an integer (seeds use all 64
    /// bits), else a number with no fraction that a Double holds exactly.
    public func int64(_ key: String) throws -> Int64 {
        guard let field = value[key] else { throw error(key, "missing") }
        if case .integer(let whole) = field { return whole }
        guard let number = field.doubleValue else { throw error(key, "expected a number") }
        guard number.rounded() == number, abs(number) < 9.0e15 else { throw error(key, "expected a whole number, got \(number)") }
        return Int64(number)
    }

    public func strings(_ key: String) throws -> [String] {
        try array(key).enumerated().map { index, item in
            guard let text = item.stringValue else { throw InputError(file: file, line: line, field: "\(name(key))[\(index)]", message: "expected a string") }
            return text
        }
    }

    /// A true/false field that may be absent (then `false`), but not of another type.
    public func flag(_ key: String) throws -> Bool {
        guard let field = value[key], field != .null else { return false }
        guard case .bool(let flag) = field else { throw error(key, "expected true or false") }
        return flag
    }

    /// An array of whole numbers (written as integers).
    public func integers(_ key: String) throws -> [Int] {
        try array(key).enumerated().map { index, item in
            guard case .integer(let whole) = item else {
                throw InputError(file: file, line: line, field: "\(name(key))[\(index)]", message: "expected a whole number")
            }
            return Int(whole)
        }
    }

    public func array(_ key: String) throws -> [JSONValue] {
        guard let field = value[key] else { throw error(key, "missing") }
        guard let items = field.arrayValue else { throw error(key, "expected an array") }
        return items
    }

    /// Each element of an array of objects, read by `read`.
    public func objects<T>(_ key: String, _ read: (RecordFields) throws -> T) throws -> [T] {
        try array(key).enumerated().map { index, item in
            try read(RecordFields(item, file: file, line: line, path: "\(name(key))[\(index)]"))
        }
    }

    /// A field whose value is one of `T`'s raw values.
    public func value<T: RawRepresentable>(_ key: String, as type: T.Type) throws -> T where T.RawValue == String {
        let raw = try string(key)
        guard let parsed = T(rawValue: raw) else { throw error(key, "unknown value \"\(raw)\"") }
        return parsed
    }
}
