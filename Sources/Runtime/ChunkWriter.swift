#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TGSupport

/// The one writer of a chunk's output: a JSONL file of self-contained
/// records, each with a stable `id`, that survives `kill -9` at any moment.
///
/// Records are buffered and written, flushed and fsync'ed every
/// `saveEvery` records (a checkpoint). On open, an existing file is read
/// back: a torn last line (the process died mid-write) is cut off, the ids
/// already written are remembered so the stage skips them, and writing
/// goes on at the end. Finishing writes a completion marker beside the
/// file (`NAME.done`) that `merge` requires. An exclusive lock (`NAME.lock`)
/// refuses a second worker on the same chunk.
///
/// A path ending in `.jsonl.gz` (a compact run) is written as gzip members
/// of whole lines (`GzipBlocks`), one or more per checkpoint; a torn last
/// member is cut off on open like a torn line. A chunk whose file a merge
/// removed (its marker kept) is complete and is not written again.
public final class ChunkWriter {
    public let path: String
    public let saveEvery: Int
    /// Ids in the file, from earlier runs and this one.
    public private(set) var writtenIDs: Set<String> = []
    /// Records this run wrote.
    public private(set) var writtenNow = 0
    /// Records found in the file at open.
    public let resumed: Int
    /// Bytes cut off a torn last line at open.
    public let truncatedBytes: Int

    private var descriptor: Int32
    private let lock: ChunkLock
    private let compressed: Bool
    private var packed: [UInt8] = []
    private var buffer: [UInt8] = []
    private var pending = 0

    public var markerPath: String { Self.markerPath(for: path) }
    /// When the chunk was first started (its fingerprint file is written
    /// once, when the chunk file is created), as run.json writes times.
    public static func startTime(of path: String) -> String? {
        guard let date = (try? FileManager.default.attributesOfItem(atPath: metaPath(for: path)))?[.modificationDate] as? Date else {
            return nil
        }
        return RunManifest.format(date)
    }

    static func metaPath(for path: String) -> String { stem(of: path) + ".meta" }
    public static func markerPath(for path: String) -> String { stem(of: path) + ".done" }

    /// The chunk's name without `.jsonl` or `.jsonl.gz`.
    static func stem(of path: String) -> String {
        for suffix in [".jsonl.gz", ".jsonl"] where path.hasSuffix(suffix) { return String(path.dropLast(suffix.count)) }
        return path
    }

    /// `fingerprint` names the inputs and configuration the chunk is made
    /// from (checksums, options); it is kept beside the file (`NAME.meta`)
    /// and a resume with another fingerprint is refused, so records made
    /// from other inputs are never mixed in.
    public init(path: String, saveEvery: Int = 100, fingerprint: String = "") throws {
        self.path = path
        self.saveEvery = max(1, saveEvery)
        compressed = path.hasSuffix(".gz")
        lock = try ChunkLock(path: path)
        // Finished, and its file removed by the merge that took its records
        // (compact runs only: elsewhere a missing file is an error merge names).
        if compressed, access(Self.markerPath(for: path), F_OK) == 0, access(path, F_OK) != 0 {
            descriptor = -1
            resumed = 0
            truncatedBytes = 0
            return
        }
        if compressed {
            let (ids, keep, torn) = try Self.readBackMembers(path)
            writtenIDs = ids
            resumed = ids.count
            truncatedBytes = torn
            descriptor = try Self.openForAppend(path, fingerprint: fingerprint, keep: keep, torn: torn)
            return
        }
        // Read back what an earlier run wrote. Every line but the last must
        // be a record; the last is torn if the file does not end with a
        // newline or the line is not a record, and is cut off.
        var ids = Set<String>()
        var keep = 0
        var torn = 0
        var information = stat()
        if stat(path, &information) == 0, information.st_size > 0 {
            let size = Int(information.st_size)
            let endsWithNewline = Self.byte(of: path, at: size - 1) == 0x0A
            let reader = try LineReader(path: path)
            var offset = 0
            var pendingError: InputError?
            while let line = try reader.nextLine() {
                if let pendingError { throw pendingError }
                let lineStart = offset
                offset = min(size, offset + line.count + 1)
                let isLast = offset >= size
                if let id = Self.id(of: line), !isLast || endsWithNewline {
                    ids.insert(id)
                    keep = offset
                } else if isLast {
                    torn = size - lineStart
                } else {
                    pendingError = InputError(file: path, line: reader.lineNumber,
                                              message: "not a complete JSON record with an \"id\" (damaged chunk file; remove it to redo the chunk)")
                }
            }
            if let pendingError {
                throw pendingError
            }
        }
        descriptor = try Self.openForAppend(path, fingerprint: fingerprint, keep: keep, torn: torn)
        writtenIDs = ids
        resumed = ids.count
        truncatedBytes = torn
    }

    /// Checks (or records) the chunk's fingerprint and opens its file for
    /// writing at `keep`, cutting off a torn end.
    private static func openForAppend(_ path: String, fingerprint: String, keep: Int, torn: Int) throws -> Int32 {
        let metaPath = Self.metaPath(for: path)
        if let recorded = try? String(contentsOfFile: metaPath, encoding: .utf8), access(path, F_OK) == 0 {
            guard recorded == fingerprint else {
                throw UsageError("""
                    \(path): this chunk was started with other inputs or options; \
                    remove \((path as NSString).deletingLastPathComponent) to start the stage over
                    """)
            }
        } else {
            do {
                try fingerprint.write(toFile: metaPath, atomically: true, encoding: .utf8)
            } catch {
                throw InputError(file: metaPath, message: "cannot write: \(error.localizedDescription)")
            }
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw InputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        if torn > 0 { _ = ftruncate(descriptor, off_t(keep)) }
        _ = lseek(descriptor, off_t(keep), SEEK_SET)
        return descriptor
    }

    /// A compressed chunk's ids, the bytes to keep (its whole members) and
    /// the bytes of a torn last member.
    private static func readBackMembers(_ path: String) throws -> (Set<String>, Int, Int) {
        var information = stat()
        guard stat(path, &information) == 0, information.st_size > 0 else { return ([], 0, 0) }
        var ids = Set<String>()
        var line = 0
        let torn = try GzipBlocks.forEachLine(in: path) { _, _, _, bytes in
            line += 1
            guard let id = Self.id(of: bytes) else {
                throw InputError(file: path, line: line,
                                 message: "not a complete JSON record with an \"id\" (damaged chunk file; remove it to redo the chunk)")
            }
            ids.insert(id)
        }
        let size = Int(information.st_size)
        return (ids, torn ?? size, torn.map { size - $0 } ?? 0)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Whether the chunk was finished by an earlier run.
    public var isComplete: Bool { access(markerPath, F_OK) == 0 }

    public func contains(_ id: String) -> Bool { writtenIDs.contains(id) }

    /// Adds one record (its `id` member is its identity); checkpoints every
    /// `saveEvery` records.
    public func write(_ record: JSONValue, id: String) throws {
        guard !writtenIDs.contains(id) else { return }
        record.write(into: &buffer)
        buffer.append(0x0A)
        writtenIDs.insert(id)
        writtenNow += 1
        pending += 1
        if pending >= saveEvery { try checkpoint() }
    }

    /// Writes buffered records and syncs them to disk.
    public func checkpoint() throws {
        if compressed, !buffer.isEmpty {
            packed.removeAll(keepingCapacity: true)
            try buffer.withUnsafeBytes { try GzipBlocks.compress($0, into: &packed) }
            swap(&buffer, &packed)
        }
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
        pending = 0
        guard fsync(descriptor) == 0 else {
            throw InputError(file: path, message: "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Drops the records `shouldRemove` picks from the file, so they are
    /// made again (a stage's "retry the failures"). The file is rewritten
    /// beside itself and renamed over, under the chunk's lock, and the
    /// completion marker goes. Call before writing anything in this run.
    /// Returns the ids removed.
    @discardableResult
    public func removeRecords(where shouldRemove: (JSONValue) -> Bool) throws -> [String] {
        precondition(buffer.isEmpty && writtenNow == 0, "removeRecords must come before any write")
        let reader = try LineReader(path: path)
        let temporary = path + ".rewrite"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw InputError(file: temporary, message: "cannot write: \(String(cString: strerror(errno)))") }
        var removed: [String] = []
        var kept: [UInt8] = []
        let compressed = self.compressed
        func flush() throws {
            if compressed, !kept.isEmpty {
                var packed: [UInt8] = []
                try kept.withUnsafeBytes { try GzipBlocks.compress($0, into: &packed) }
                kept = packed
            }
            var written = 0
            while written < kept.count {
                let count = kept.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + written, $0.count - written) }
                if count < 0 {
                    if errno == EINTR { continue }
                    close(output)
                    throw InputError(file: temporary, message: "write failed: \(String(cString: strerror(errno)))")
                }
                written += count
            }
            kept.removeAll(keepingCapacity: true)
        }
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            let value = try JSONValue.parse(line)
            if shouldRemove(value), let id = value["id"]?.stringValue {
                removed.append(id)
                continue
            }
            kept.append(contentsOf: line)
            kept.append(0x0A)
            if kept.count > 1 << 20 { try flush() }
        }
        try flush()
        guard !removed.isEmpty else {
            close(output)
            unlink(temporary)
            return []
        }
        guard fsync(output) == 0, rename(temporary, path) == 0 else {
            close(output)
            throw InputError(file: path, message: "cannot replace: \(String(cString: strerror(errno)))")
        }
        close(output)
        close(descriptor)
        descriptor = open(path, O_WRONLY | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw InputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))") }
        _ = lseek(descriptor, 0, SEEK_END)
        unlink(markerPath)
        writtenIDs.subtract(removed)
        return removed
    }

    /// Checkpoints and writes the completion marker (records in the file,
    /// its size and SHA-256, time), atomically: `merge` checks the file
    /// against it, so a chunk damaged after it finished is never merged.
    public func finish(extra: [(String, JSONValue)] = []) throws {
        try checkpoint()
        let marker = try JSONLinesWriter(path: markerPath)
        try marker.writeLine(.object([("records", .integer(Int64(writtenIDs.count))),
                                      ("finished", .string(RunManifest.now()))] + ChunkMerge.seal(of: path) + extra))
        try marker.commit()
    }

    static func id(of line: UnsafeBufferPointer<UInt8>) -> String? {
        guard let value = try? JSONValue.parse(line) else { return nil }
        return value["id"]?.stringValue
    }

    static func byte(of path: String, at offset: Int) -> UInt8? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var byte: UInt8 = 0
        return pread(descriptor, &byte, 1, off_t(offset)) == 1 ? byte : nil
    }
}
