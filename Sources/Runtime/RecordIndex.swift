import Foundation
import TGSupport

/// Where each record of a JSONL file (one `id` per line, as chunk merges
/// write them) starts, so a stage can read one record back by id without
/// holding the file: one entry per record.
///
/// A `.jsonl.gz` file (gzip members of whole lines, `GzipBlocks`) is read
/// the same way: an entry names its member and its place inside, and the
/// member last inflated is kept, so reading records in file order inflates
/// each member once.
public struct RecordIndex {
    public let path: String
    /// Ids in file order.
    public private(set) var order: [String] = []
    private var locations: [String: Location] = [:]
    private let reader: FileReader
    private let members: MemberCache?

    struct Location {
        /// Byte offset of the line in the file, or of its member.
        var offset: Int
        var length: Int
        /// Compressed files: the member's length and the line's offset in it.
        var memberLength = 0
        var lineOffset = 0
    }

    /// `key` names the member that identifies a record (`id`, or
    /// `patient` for timelines).
    public init(path: String, key: String = "id") throws {
        self.path = path
        var line = 0
        var locations: [String: Location] = [:]
        var order: [String] = []
        func add(_ bytes: UnsafeBufferPointer<UInt8>, _ location: Location) throws {
            line += 1
            guard !bytes.isEmpty else { return }
            let found: String?
            do {
                found = try JSONValue.leadingString(bytes, key: key) ?? JSONValue.parse(bytes)[key]?.stringValue
            } catch {
                throw InputError(file: path, line: line, message: "\(error)")
            }
            guard let id = found else { throw InputError(file: path, line: line, field: key, message: "missing") }
            locations[id] = location
            order.append(id)
        }
        if path.hasSuffix(".gz") {
            let torn = try GzipBlocks.forEachLine(in: path) { offset, length, lineOffset, bytes in
                try add(bytes, Location(offset: offset, length: bytes.count, memberLength: length, lineOffset: lineOffset))
            }
            if let torn { throw InputError(file: path, message: "ends in a torn gzip member at byte \(torn) (the file was cut short)") }
            members = MemberCache()
        } else {
            let lines = try LineReader(path: path)
            var offset = 0
            while let bytes = try lines.nextLine() {
                defer { offset += bytes.count + 1 }
                try add(bytes, Location(offset: offset, length: bytes.count))
            }
            members = nil
        }
        self.locations = locations
        self.order = order
        reader = try FileReader(path: path)
    }

    public func contains(_ id: String) -> Bool { locations[id] != nil }

    /// The record with this id, parsed; nil if the file has none.
    public func record(_ id: String) throws -> JSONValue? {
        guard let location = locations[id] else { return nil }
        do {
            guard let members else { return try JSONValue.parse(try reader.read(offset: location.offset, length: location.length)) }
            return try members.line(at: location, from: reader) { try JSONValue.parse($0) }
        } catch let error as JSONSyntaxError {
            throw InputError(file: path, field: id, message: "\(error) (the file changed since it was indexed?)")
        } catch let error as GzipError {
            throw InputError(file: path, field: id, message: "\(error) (the file changed since it was indexed?)")
        }
    }
}

/// The member of a compressed file inflated last (records are mostly read
/// in file order), behind a lock: a stage may read from several tasks.
final class MemberCache: @unchecked Sendable {
    private let lock = NSLock()
    private var offset = -1
    private var bytes: [UInt8] = []

    func line<T>(at location: RecordIndex.Location, from reader: FileReader,
                 _ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if offset != location.offset {
            let compressed = try reader.read(offset: location.offset, length: location.memberLength)
            bytes = try compressed.withUnsafeBytes { try GzipBlocks.inflate($0) }
            offset = location.offset
        }
        guard location.lineOffset + location.length <= bytes.count else { throw GzipError("a record lies outside its member") }
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[location.lineOffset..<(location.lineOffset + location.length)])) }
    }
}
