#if canImport(Glibc)
import Glibc
#endif

/// Writes a JSON-lines (or any text) file all or nothing: lines go to a hidden file
/// beside the destination, renamed into place by `commit()`; a writer
/// dropped without commit removes it, so a failed import never leaves a
/// file a later stage would trust.
public final class JSONLinesWriter {
    public let path: String
    private let partial: String
    private var file: UnsafeMutablePointer<FILE>?

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
    }

    private var buffer: [UInt8] = []

    /// Writes `value` as one compact JSON line.
    public func writeLine(_ value: JSONValue) throws {
        buffer.removeAll(keepingCapacity: true)
        value.write(into: &buffer)
        buffer.append(0x0A)
        guard let file else { throw InputError(file: path, message: "writer already closed") }
        let written = buffer.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == buffer.count else {
            throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `bytes` and a newline (a line read elsewhere, copied as is).
    public func writeLine(bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let file else { throw InputError(file: path, message: "writer already closed") }
        var newline: UInt8 = 0x0A
        guard fwrite(bytes.baseAddress, 1, bytes.count, file) == bytes.count, fwrite(&newline, 1, 1, file) == 1 else {
            throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    public func writeLine(_ line: String) throws {
        guard let file else { throw InputError(file: path, message: "writer already closed") }
        var line = line + "\n"
        let written = line.withUTF8 { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == line.utf8.count else {
            throw InputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Flushes, syncs and renames into place.
    public func commit() throws {
        guard let file else { return }
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
