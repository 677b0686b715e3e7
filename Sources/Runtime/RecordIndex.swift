import TGSupport

/// Where each record of a JSONL file (one `id` per line, as chunk merges
/// write them) starts, so a stage can read one record back by id without
/// holding the file: one entry per record.
public struct RecordIndex {
    public let path: String
    /// Ids in file order.
    public private(set) var order: [String] = []
    private var locations: [String: (offset: Int, length: Int)] = [:]
    private let reader: FileReader

    /// `key` names the member that identifies a record (`id`, or
    /// `patient` for timelines).
    public init(path: String, key: String = "id") throws {
        self.path = path
        let lines = try LineReader(path: path)
        var offset = 0
        while let line = try lines.nextLine() {
            defer { offset += line.count + 1 }
            guard !line.isEmpty else { continue }
            let found: String?
            do {
                found = try JSONValue.leadingString(line, key: key) ?? JSONValue.parse(line)[key]?.stringValue
            } catch {
                throw InputError(file: path, line: lines.lineNumber, message: "\(error)")
            }
            guard let id = found else {
                throw InputError(file: path, line: lines.lineNumber, field: key, message: "missing")
            }
            locations[id] = (offset, line.count)
            order.append(id)
        }
        reader = try FileReader(path: path)
    }

    public func contains(_ id: String) -> Bool { locations[id] != nil }

    /// The record with this id, parsed; nil if the file has none.
    public func record(_ id: String) throws -> JSONValue? {
        guard let location = locations[id] else { return nil }
        do {
            return try JSONValue.parse(try reader.read(offset: location.offset, length: location.length))
        } catch let error as JSONSyntaxError {
            throw InputError(file: path, field: id, message: "\(error) (the file changed since it was indexed?)")
        }
    }
}
