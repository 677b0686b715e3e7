import Foundation

/// Putting a finished output in place without ever removing what the tool
/// did not make.
///
/// A finished file is renamed over its destination (`rename(2)`: atomic,
/// and it fails on a folder instead of deleting it). Before a long build, a
/// command asks `checkReplaceable` whether its destination may be replaced:
/// a missing path may; a folder never may (for a file output); an existing
/// file only when it is recognisably the tool's own (`isOurs`) or the user
/// said `--force`.
public enum SafeReplace {
    /// Renames `partial` to `destination`, replacing a file there; refuses
    /// (and removes `partial`) when `destination` is a folder.
    public static func move(_ partial: String, to destination: String) throws {
        var status = stat()
        if lstat(destination, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            try? FileManager.default.removeItem(atPath: partial)
            throw UsageError("\(destination) is a folder; it is not replaced by a file (name a file instead)")
        }
        guard rename(partial, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw InputError(file: destination, message: "cannot put the finished file in place: \(reason)")
        }
    }

    /// Whether an output file may be written at `destination`: refuses a
    /// folder, and an existing file that `isOurs` does not recognise unless
    /// `force`.
    public static func checkReplaceable(file destination: String, force: Bool, kind: String,
                                        isOurs: (String) -> Bool) throws {
        var status = stat()
        guard lstat(destination, &status) == 0 else { return }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw UsageError("\(destination) is a folder; it is not replaced by \(kind) (name a file instead)")
        }
        if !force, !isOurs(destination) {
            throw UsageError("\(destination) exists and is not \(kind) (pass --force to replace it)")
        }
    }

    /// Whether a folder may be replaced by a built one: a folder that is
    /// empty or holds `marker` (the tool's own), never a file or another
    /// folder.
    public static func checkReplaceable(folder destination: String, marker: String, kind: String) throws {
        var status = stat()
        guard lstat(destination, &status) == 0 else { return }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw UsageError("\(destination) exists and is not a folder; it is not replaced by \(kind)")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: destination)) ?? []
        if !contents.isEmpty, !contents.contains(marker) {
            throw UsageError("\(destination) is a folder that is not \(kind) (no \(marker)); it is not replaced, even with --force")
        }
    }

    /// Whether the file at `path` starts with `magic`.
    public static func starts(_ path: String, with magic: [UInt8]) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: magic.count)).map { Array($0) == magic } ?? false
    }
}

extension SafeReplace {
    /// Writes `data` to `path` through a tagged partial file renamed into
    /// place; a failure (a full disk, a missing folder) is an error naming
    /// `path` and the system's reason, not a raw Foundation error.
    public static func write(_ data: Data, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let partial = (folder.isEmpty ? "." : folder) + "/." + (path as NSString).lastPathComponent + ".partial-" + Debris.tag
        guard let file = fopen(partial, "w") else {
            throw InputError(file: path, message: "cannot write: \(String(cString: strerror(errno)))")
        }
        let written = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let reason = String(cString: strerror(errno))
        fclose(file)
        guard written == data.count, flushed else {
            unlink(partial)
            throw InputError(file: path, message: "cannot write: \(reason)")
        }
        try move(partial, to: path)
    }
}
