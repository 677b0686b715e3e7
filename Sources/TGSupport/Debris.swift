import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The half-written files a crashed or killed process leaves behind, and
/// their removal by a later run.
///
/// Every temporary output is named with its writer's tag, `host.pid`
/// (`.patients.jsonl.partial-node1.4711`, `.thinkgraph-partitions-node1.4711-Xa3b9Q`,
/// `lex.old-node1.4711`). A sweep of a folder removes an entry only when its
/// tag names this host and a process that no longer exists: never a live
/// worker's, and never one of another machine sharing the folder (a Slurm
/// array), whose processes this one cannot see.
public enum Debris {
    /// This process's tag: host name and process id.
    public static let tag: String = {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(host.replacingOccurrences(of: "/", with: "_")).\(getpid())"
    }()

    /// The markers after which a tag follows.
    static let markers = [".partial-", ".old-", ".candidates-", ".thinkgraph-partitions-"]

    /// The host and pid an entry's name was tagged with, if it is debris-shaped.
    static func owner(of name: String) -> (host: String, pid: Int32)? {
        guard let marker = markers.compactMap({ name.range(of: $0, options: .backwards) }).max(by: { $0.lowerBound < $1.lowerBound })
        else { return nil }
        var tag = name[marker.upperBound...]
        // A partitions folder ends in mkdtemp's random suffix.
        if name[marker].hasSuffix("partitions-"), let dash = tag.lastIndex(of: "-") { tag = tag[..<dash] }
        guard let dot = tag.lastIndex(of: "."), let pid = Int32(tag[tag.index(after: dot)...]), pid > 0 else { return nil }
        return (String(tag[..<dot]), pid)
    }

    private static let swept = Mutex()

    /// Removes the debris of dead processes of this host from `directory`
    /// (once per folder and process); returns what it removed.
    @discardableResult
    public static func sweep(_ directory: String) -> [String] {
        let folder = directory.isEmpty ? "." : directory
        guard swept.firstVisit(folder) else { return [] }
        let ownHost = String(tag[..<tag.lastIndex(of: ".")!])
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let owner = owner(of: name), owner.host == ownHost, owner.pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            guard kill(owner.pid, 0) == -1, errno == ESRCH else { continue }
            if (try? FileManager.default.removeItem(atPath: folder + "/" + name)) != nil { removed.append(name) }
        }
        return removed
    }

    /// The folders already swept by this process.
    private final class Mutex: @unchecked Sendable {
        private let lock = NSLock()
        private var folders = Set<String>()
        func firstVisit(_ folder: String) -> Bool { lock.withLock { folders.insert(folder).inserted } }
    }
}
