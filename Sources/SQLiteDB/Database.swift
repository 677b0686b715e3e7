import CSQLite

/// An error reported by SQLite, with the statement that caused it.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?
    /// The database file, so the message names it.
    public var path: String?

    public init(code: Int32, message: String, sql: String?, path: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.path = path
    }

    public var description: String {
        let prefix = path.map { "\($0): " } ?? ""
        if let sql { return "\(prefix)SQLite error \(code): \(message) (in: \(sql.prefix(120)))" }
        return "\(prefix)SQLite error \(code): \(message)"
    }
}

/// One SQLite connection. Values are only ever passed as bound parameters:
/// no SQL in this project is built by formatting data into a string.
///
/// A connection is used from one thread at a time (it is not `Sendable`);
/// open one per worker thread for parallel reads.
public final class Database {
    let handle: OpaquePointer
    public let path: String

    public enum Mode: Sendable { case readOnly, readWrite, create }

    public init(path: String, mode: Mode = .readWrite) throws {
        self.path = path
        var pointer: OpaquePointer?
        let flags: Int32
        switch mode {
        case .readOnly: flags = SQLITE_OPEN_READONLY
        case .readWrite: flags = SQLITE_OPEN_READWRITE
        case .create: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        let status = sqlite3_open_v2(path, &pointer, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let pointer { sqlite3_close_v2(pointer) }
            throw SQLiteError(code: status, message: "\(path): \(message)", sql: nil)
        }
        handle = pointer
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that take no parameters (schema, pragmas).
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if status != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: status, message: message, sql: sql, path: path)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// Runs `body` inside a transaction, rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The first column of the first row of a query, as an integer.
    public func scalarInt(_ sql: String, _ values: SQLValue...) throws -> Int64? {
        let statement = try prepare(sql)
        try statement.bind(values)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int(0)
    }

    func error(_ status: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)), sql: sql, path: path)
    }
}

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

extension SQLValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
}

private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement. Reuse it across rows: bind, step, reset.
public final class Statement {
    private let database: Database
    private let handle: OpaquePointer
    public let sql: String

    init(database: Database, sql: String) throws {
        self.database = database
        self.sql = sql
        var pointer: OpaquePointer?
        let status = sqlite3_prepare_v2(database.handle, sql, -1, &pointer, nil)
        guard status == SQLITE_OK, let pointer else { throw database.error(status, sql: sql) }
        handle = pointer
    }

    deinit { sqlite3_finalize(handle) }

    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    public func bind(_ value: SQLValue, at index: Int32) throws {
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(handle, index)
        case .integer(let number): status = sqlite3_bind_int64(handle, index, number)
        case .real(let number): status = sqlite3_bind_double(handle, index, number)
        case .text(let text):
            var text = text
            status = text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count),
                                      transientDestructor)
                }
            }
        }
        guard status == SQLITE_OK else { throw database.error(status, sql: sql) }
    }

    public func bind(_ number: Int64, at index: Int32) throws {
        let status = sqlite3_bind_int64(handle, index, number)
        guard status == SQLITE_OK else { throw database.error(status, sql: sql) }
    }

    /// Advances to the next row; false when the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        let status = sqlite3_step(handle)
        switch status {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(status, sql: sql)
        }
    }

    /// Binds, runs to completion and resets: for INSERT / UPDATE / DELETE.
    public func run(_ values: SQLValue...) throws {
        try bind(values)
        try step()
        sqlite3_reset(handle)
    }

    /// Binds and collects every row through `row`.
    public func rows<T>(_ values: SQLValue..., row: (Statement) throws -> T) throws -> [T] {
        try bind(values)
        var results: [T] = []
        while try step() { results.append(try row(self)) }
        sqlite3_reset(handle)
        return results
    }

    public func reset() { sqlite3_reset(handle) }

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
}
