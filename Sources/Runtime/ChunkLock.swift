#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TGSupport

/// The exclusive lock a chunk's worker holds (`NAME.lock`, `flock`), so two
/// workers started on one chunk from a shell loop never both write it: the
/// second is refused at once. Released when the value goes away (or the
/// process dies: the kernel drops a dead process's locks).
public final class ChunkLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock of the chunk whose output is `path`.
    public init(path: String) throws {
        let lockPath = path + ".lock"
        descriptor = open(lockPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw InputError(file: lockPath, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw UsageError("\(path): another worker is writing this chunk (lock held on \(lockPath))")
        }
    }

    deinit { close(descriptor) }

    /// Whether a worker holds the lock of the chunk whose output is `path`
    /// now (probed without waiting; a dead worker's lock is free).
    public static func isHeld(path: String) -> Bool {
        let descriptor = open(path + ".lock", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }
}
