#if canImport(Glibc)
import Glibc
#endif

/// Writes a JSON-lines (or any text) file all or nothing: lines go to a hidden file
/// beside the destination, renamed into place by `commit()`; a writer
/// dropped without commit removes it, so a failed import never leaves a
/// file a later stage would trust.
///
/// A path ending in `.gz` is written as gzip members of whole lines
/// (`GzipBlocks`), which `RecordIndex` reads back by record.
public final class JSONLinesWriter {
    public let path: String
    private let partial: String
    private var file: UnsafeMutablePointer<FILE>?
    private let compressed: Bool
    /// Lines not yet compressed (gzip only).
    private var pending: [UInt8] = []
    private var packed: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        Debris.sweep(directory)
        partial = "\(directory)/.\(name).partial-\(Debris.tag)"
        guard let file = fopen(partial, "w") else {
            throw InputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        self.file = file
        compressed = path.hasSuffix(".gz")
    }

    /// Writes `bytes` (whole lines): to the file, or to the next member.
    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file else { throw InputError(file: path, message: "writer already closed") }
        guard compressed else {
            guard fwrite(bytes.baseAddress, 1, bytes.count, file) == bytes.count else {
                throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            return
        }
        pending.append(contentsOf: bytes)
        if pending.count >= GzipBlocks.blockSize { try flushPending() }
    }

    private func flushPending() throws {
        guard let file, !pending.isEmpty else { return }
        packed.removeAll(keepingCapacity: true)
        try pending.withUnsafeBytes { try GzipBlocks.compress($0, into: &packed) }
        pending.removeAll(keepingCapacity: true)
        guard packed.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, file) }) == packed.count else {
            throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    private var buffer: [UInt8] = []

    /// Writes `value` as one compact JSON line.
    public func writeLine(_ value: JSONValue) throws {
        buffer.removeAll(keepingCapacity: true)
        value.write(into: &buffer)
        buffer.append(0x0A)
        try buffer.withUnsafeBytes { try emit($0) }
    }

    /// Writes `bytes` and a newline (a line read elsewhere, copied as is).
    public func writeLine(bytes: UnsafeBufferPointer<UInt8>) throws {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes)
        buffer.append(0x0A)
        try buffer.withUnsafeBytes { try emit($0) }
    }

    public func writeLine(_ line: String) throws {
        var line = line + "\n"
        try line.withUTF8 { try emit(UnsafeRawBufferPointer($0)) }
    }

    /// Flushes, syncs and renames into place.
    public func commit() throws {
        guard let file else { return }
        do { try flushPending() } catch {
            self.file = nil
            fclose(file)
            unlink(partial)
            throw error
        }
        self.file = nil
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else {
            fclose(file)
            unlink(partial)
            throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
        fclose(file)
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw InputError(file: path, message: "cannot move into place: \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if let file {
            fclose(file)
            unlink(partial)
        }
    }
}
