import Foundation

/// Progress of one worker on standard error: whole lines (never carriage
/// returns), at most one every `interval` seconds, each naming the stage
/// and chunk, so ten workers sharing a terminal or a log file stay
/// readable:
///
///     extract 3/10: 1200/5000 (24.0%) 350.2/s ETA 0:00:11
public final class Progress: @unchecked Sendable {
    public let label: String
    public let total: Int
    public let quiet: Bool
    public let interval: Double
    public private(set) var done = 0
    private let started = Date()
    private var lastReport = Date.distantPast
    private let lock = NSLock()

    public init(label: String, total: Int, quiet: Bool, interval: Double = 2) {
        self.label = label
        self.total = total
        self.quiet = quiet
        self.interval = interval
    }

    public var elapsed: Double { Date().timeIntervalSince(started) }

    public func advance(by count: Int = 1) {
        lock.lock()
        done += count
        let now = Date()
        let due = now.timeIntervalSince(lastReport) >= interval
        if due { lastReport = now }
        lock.unlock()
        if due { report() }
    }

    public func report(final: Bool = false) {
        guard !quiet else { return }
        let seconds = elapsed
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var line = "\(label): \(done)/\(total)"
        if total > 0 { line += String(format: " (%.1f%%)", 100 * Double(done) / Double(total)) }
        line += String(format: " %.1f/s", rate)
        if final {
            line += " done in " + Self.clock(seconds)
        } else if rate > 0, total > done {
            line += " ETA " + Self.clock(Double(total - done) / rate)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
    }
}
