#if canImport(Glibc)
import Glibc
#endif

/// Random access to a file's bytes (`pread`), for reading one record back
/// by the offset an index recorded.
public final class FileReader {
    public let path: String
    private let descriptor: Int32

    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// Exactly `length` bytes at `offset`.
    public func read(offset: Int, length: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, length - done, off_t(offset + done)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw InputError(file: path, message: "short read at byte \(offset + done) (was the file changed?)")
            }
            done += count
        }
        return bytes
    }
}
