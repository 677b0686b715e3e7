import ArgumentParser
import Logging

@main
struct Thinkgraph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thinkgraph",
        abstract: "Turn electronic health records into thinking-graph reasoning datasets.",
        version: "0.1.0",
        subcommands: [LexiconCommand.self, SimStringCommand.self, MatchCommand.self, ImportCommand.self, RenderCommand.self, SamplesCommand.self, ExtractCommand.self, CooccurCommand.self, EvidenceCommand.self, ReasonCommand.self, FilterCommand.self, InstructCommand.self, ExportCommand.self, InspectCommand.self, ReportCommand.self, StatusCommand.self])
}

/// Options every long-running command shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print no progress on standard error.")
    var quiet = false

    /// Progress messages go to standard error through swift-log, so they never
    /// mix with a command's data on standard output.
    func progressReporter(label: String) -> (@Sendable (String) -> Void)? {
        guard !quiet else { return nil }
        var configured = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        configured.logLevel = .info
        let logger = configured
        let startedAt = ContinuousClock.now
        return { message in
            let elapsed = ContinuousClock.now - startedAt
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            logger.info("[\(String(format: "%7.1fs", seconds))] \(message)")
        }
    }
}
