import Foundation

/// Builds a folder out of sight and moves it into place only when complete.
///
/// Later stages trust whatever sits at a lexicon's or run's path, so a build
/// that fails half-way must leave nothing there. The staging folder lives next
/// to the destination (same file system, so the final move is one rename) and
/// is named with a leading dot and the process id, so it is never mistaken
/// for the real thing and two concurrent builds do not collide.
public struct StagedDirectory: Sendable {
    public let destination: String
    public let staging: String

    /// Creates the staging folder. Fails if `destination` exists and
    /// `replacingExisting` is false, and, even when it is true, if
    /// `destination` is not an empty folder or one holding `marker` (the
    /// tool's own: `--force` never removes a user's folder).
    public init(destination: String, replacingExisting: Bool, marker: String, kind: String) throws {
        let fileManager = FileManager.default
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        self.destination = target.path
        if fileManager.fileExists(atPath: target.path), !replacingExisting {
            throw UsageError("\(target.path) already exists (pass --force to replace it)")
        }
        try SafeReplace.checkReplaceable(folder: target.path, marker: marker, kind: kind)
        let parent = target.deletingLastPathComponent()
        try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
        Debris.sweep(parent.path)
        staging = parent.appendingPathComponent(".\(target.lastPathComponent).partial-\(Debris.tag)").path
        if fileManager.fileExists(atPath: staging) { try fileManager.removeItem(atPath: staging) }
        try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: false)
    }

    /// Path of a file inside the staging folder.
    public func path(_ name: String) -> String { staging + "/" + name }

    /// Moves the finished folder into place, replacing any previous one.
    public func commit() throws {
        let fileManager = FileManager.default
        var retired: String?
        if fileManager.fileExists(atPath: destination) {
            let old = destination + ".old-\(Debris.tag)"
            try fileManager.moveItem(atPath: destination, toPath: old)
            retired = old
        }
        do {
            try fileManager.moveItem(atPath: staging, toPath: destination)
        } catch {
            if let retired { try? fileManager.moveItem(atPath: retired, toPath: destination) }
            throw error
        }
        if let retired { try? fileManager.removeItem(atPath: retired) }
    }

    /// Removes the staging folder after a failure.
    public func discard() {
        try? FileManager.default.removeItem(atPath: staging)
    }
}
