#if canImport(Glibc)
import Glibc
#endif

/// What tells a file apart from its earlier self without reading it: size,
/// modification time (nanoseconds) and inode. A stamp beside a mapped file
/// records it when the file's bytes were last checked in full.
public enum FileIdentity {
    public static func of(_ info: stat) -> String {
        "\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
    }

    public static func of(path: String) -> String? {
        var info = stat()
        return stat(path, &info) == 0 ? of(info) : nil
    }
}
