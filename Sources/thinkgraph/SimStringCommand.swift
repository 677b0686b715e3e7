import ArgumentParser
import Foundation
import SimString
import TGSupport

extension SimilarityMeasure: ExpressibleByArgument {}

/// A drop-in twin of the C++ `simstring` command: same options, same output.
struct SimStringCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simstring",
        abstract: "Build or query a SimString index, as the C++ simstring command does.",
        discussion: """
            Build:  thinkgraph simstring -b -d DB [-n N] [-m] [-u] < strings
            Query:  thinkgraph simstring -d DB [-s cosine|dice|jaccard|overlap|exact] [-t TH] [-e] [-q] [-p] < queries
            Each retrieved string is printed on its own line after a tab, ordered by feature count, then by input
            order (the C++ tool's order within a size depends on its merge order).
            """)

    @Flag(name: [.short, .long], help: "Build a database for strings read from standard input.")
    var build = false

    @Option(name: [.short, .long], help: "The database file.")
    var database: String

    @Flag(name: [.short, .long], help: "Use Unicode characters (scalars) instead of bytes.")
    var unicode = false

    @Option(name: [.short, .customLong("ngram")], help: "The unit of n-grams.")
    var n = 3

    @Flag(name: [.short, .long], help: "Include marks for begins and ends of strings.")
    var mark = false

    @Option(name: [.short, .long], help: "Similarity measure: exact, dice, cosine, jaccard, overlap.")
    var similarity: SimilarityMeasure = .cosine

    @Option(name: [.short, .long], help: "Threshold, in (0, 1].")
    var threshold = 0.7

    @Flag(name: [.short, .customLong("echo-back")], help: "Echo back query strings to the output.")
    var echo = false

    @Flag(name: [.short, .long], help: "Suppress supplemental information from the output.")
    var quiet = false

    @Flag(name: [.customShort("p"), .long], help: "Show a benchmark summary (retrieved strings are not printed).")
    var benchmark = false

    @Flag(help: "Compute required overlaps with the C++ tool's floating-point formulas, for byte-identical results.")
    var simstringRounding = false

    @Flag(help: "Check the database's body checksum before querying (reads the whole file).")
    var verify = false

    @Flag(help: "With -b, replace an existing file that is not a SimString database (a folder is never replaced).")
    var force = false

    @Option(help: "Longest input line (string or query) accepted, in bytes; a longer one is an error naming its line.")
    var maxLength = 65_536

    func validate() throws {
        guard (1...64).contains(n) else { throw ValidationError("-n must be 1 to 64") }
        guard maxLength >= 1 else { throw ValidationError("--max-length must be at least 1") }
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1], not \(threshold)") }
    }

    func run() throws {
        // A longer line is refused with its number: one 50 MB "string" made a 3 GB index.
        let input = try LineReader(path: "/dev/stdin", maximumLineLength: maxLength)
        var output = StandardOutput()
        if build {
            try buildDatabase(input, &output)
        } else {
            try query(input, &output)
        }
        try output.flush()
    }

    private func buildDatabase(_ input: LineReader, _ output: inout StandardOutput) throws {
        try SafeReplace.checkReplaceable(file: database, force: force, kind: "a SimString database") {
            SimStringIndex.looksLikeIndex(atPath: $0)
        }
        let started = ContinuousClock.now
        let settings = FeatureSettings(n: n, marks: mark, unicode: unicode)
        var builder = try SimStringIndexBuilder(settings: settings)
        if !quiet {
            try output.write("Constructing the database\nDatabase name: \(database)\nN-gram length: \(n)\n")
            try output.write("Begin/end marks: \(mark)\nChar type: \(unicode ? "unicode scalars" : "bytes")\n")
        }
        while let line = try input.nextLine() { builder.add(bytes: line) }
        if !quiet { try output.write("Number of strings: \(builder.count)\n\nFlushing the database\n") }
        try builder.write(to: database)
        if !quiet {
            try output.write("\nTotal number of strings: \(builder.count)\n")
            try output.write("Seconds required: \(formatG(seconds(since: started)))\n\n")
        }
    }

    private func query(_ input: LineReader, _ output: inout StandardOutput) throws {
        let index = try SimStringIndex(path: database, verification: verify ? .always : .once)
        guard index.settings.unicode == unicode else {
            throw ValidationError("""
                the database was built \(index.settings.unicode ? "with" : "without") -u (--unicode); \
                query it \(index.settings.unicode ? "with" : "without") -u
                """)
        }
        var searcher = SimStringSearcher(index: index)
        let arithmetic: ThresholdArithmetic = simstringRounding ? .simstring : .exact
        var queries = 0, retrieved = 0
        var total: Duration = .zero
        while let line = try input.nextLine() {
            let started = ContinuousClock.now
            let matches = try searcher.search(bytes: line, measure: similarity, threshold: threshold, arithmetic: arithmetic,
                                              similarities: false)
            let elapsed = ContinuousClock.now - started
            total += elapsed
            queries += 1
            retrieved += matches.count
            if echo { try output.write(line); try output.write("\n") }
            if !benchmark {
                for match in matches {
                    try output.write("\t")
                    try output.write(index.bytes(of: match.id))
                    try output.write("\n")
                }
            }
            if !quiet { try output.write("\(matches.count) strings retrieved (\(formatG(elapsed.seconds)) sec)\n") }
        }
        if benchmark {
            try output.write("Total number of queries: \(queries)\n")
            try output.write("Seconds per query: \(formatG(queries > 0 ? total.seconds / Double(queries) : 0))\n")
            try output.write("Number of retrieved strings per query: \(formatG(queries > 0 ? Double(retrieved) / Double(queries) : 0))\n")
        }
    }

    private func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).seconds }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// C++ iostream's default formatting of a double (`%g`, six digits).
func formatG(_ value: Double) -> String { String(format: "%g", value) }

/// Buffered standard output: a retrieval run prints millions of lines.
/// A failed write is an error (a full disk, a closed pipe), never a
/// silently shortened output: a reader that went away (`| head`) ends the
/// command with status 141, as SIGPIPE would; anything else names the
/// system's reason.
struct StandardOutput {
    private var buffer: [UInt8] = []
    private let descriptor: Int32

    init(descriptor: Int32 = 1) {
        self.descriptor = descriptor
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let failure: Int32? = buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return written < 0 ? errno : EIO }
                offset += written
            }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        guard let failure else { return }
        if failure == EPIPE { throw ExitCode(141) }
        throw OutputFailure(reason: String(cString: strerror(failure)))
    }
}

/// Standard output could not be written.
struct OutputFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot write standard output: \(reason)" }
}
