import TGSupport

/// How an importer treats bad input: stop at the first problem, or skip the
/// offending row / resource / patient, count it, and write it with its
/// reason to a rejects file.
public enum ImportMode: String, Sendable, CaseIterable {
    case strict, lenient
}

/// Skipped input, kept so a user can see exactly what did not make it in.
public final class RejectLog {
    public let mode: ImportMode
    public private(set) var count = 0
    public private(set) var countsByReason: [String: Int] = [:]
    private let writer: JSONLinesWriter?

    /// `path` receives one JSON line per reject (lenient mode only).
    public init(mode: ImportMode, path: String?) throws {
        self.mode = mode
        writer = mode == .lenient ? try path.map { try JSONLinesWriter(path: $0) } : nil
    }

    /// In strict mode throws `error`; in lenient mode records it.
    public func reject(_ error: InputError, kind: String) throws {
        guard mode == .lenient else { throw error }
        count += 1
        countsByReason[kind, default: 0] += 1
        var members: [(String, JSONValue)] = [("file", .string(error.file))]
        if let line = error.line { members.append(("line", .integer(Int64(line)))) }
        if let field = error.field { members.append(("field", .string(field))) }
        members.append(("kind", .string(kind)))
        members.append(("reason", .string(error.message)))
        try writer?.writeLine(JSONValue.object(members).jsonText)
    }

    public func commit() throws { try writer?.commit() }
}
