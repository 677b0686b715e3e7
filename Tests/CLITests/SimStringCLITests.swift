import Foundation
import Testing
import TestSupport

/// The `thinkgraph simstring` twin against the C++ `simstring` command
/// (Debian's simstring-bin), on the same strings and queries.
@Suite(.enabled(if: CPlusPlusSimString.path != nil, "C++ simstring not installed (apt-get install simstring-bin)"))
struct SimStringCLITests {
    let folder = NSTemporaryDirectory() + "simstring-cli-\(UUID().uuidString)"

    /// Runs a command with `input` on standard input; returns standard output.
    func run(_ executable: URL, _ arguments: [String], input: String) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LANG"] = "C.UTF-8"  // the C++ tool decodes -u input with the locale
        environment["LC_ALL"] = "C.UTF-8"
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        let errorPath = folder + "/stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer { try? errorFile.close() }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = errorFile
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = FileManager.default.contents(atPath: errorPath) ?? Data()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }

    /// Echoed query → sorted retrieved strings, from `-e -q` output.
    func parse(_ output: String) -> [[String]] {
        var results: [[String]] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("\t") { results[results.count - 1].append(String(line.dropFirst())) } else { results.append([]) }
        }
        return results.map { $0.sorted() }
    }

    @Test(arguments: [false, true])
    func sameResultsAsTheCPlusPlusTool(unicode: Bool) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (strings, queries) = ParityData.make(seed: 11, strings: 800, queries: 150)
        let input = strings.joined(separator: "\n") + "\n"
        let queryInput = queries.joined(separator: "\n") + "\n"
        let mode = unicode ? ["-u"] : []
        let cpp = URL(fileURLWithPath: CPlusPlusSimString.path!)
        #expect(try run(cpp, ["-b", "-d", folder + "/cpp.db"] + mode, input: input).0 == 0)
        #expect(try run(Thinkgraph.executable, ["simstring", "-b", "-d", folder + "/ours.db", "-q"] + mode, input: input).0 == 0)
        for measure in ["exact", "dice", "cosine", "jaccard", "overlap"] {
            for threshold in ["0.5", "0.7", "0.9", "1"] {
                let options = ["-s", measure, "-t", threshold, "-e", "-q"] + mode
                let (cppStatus, cppOutput, _) = try run(cpp, ["-d", folder + "/cpp.db"] + options, input: queryInput)
                let (ourStatus, ourOutput, ourErrors) = try run(Thinkgraph.executable,
                    ["simstring", "-d", folder + "/ours.db", "--simstring-rounding"] + options, input: queryInput)
                #expect(cppStatus == 0)
                #expect(ourStatus == 0, "\(ourErrors)")
                let expected = parse(cppOutput), got = parse(ourOutput)
                #expect(got.count == queries.count)
                let differing = zip(queries, zip(got, expected)).filter { $1.0 != $1.1 }
                #expect(differing.isEmpty, "\(measure) \(threshold) unicode=\(unicode): \(differing.count) queries differ, first: \(differing.first.map { "\($0.0): ours \($0.1.0) vs C++ \($0.1.1)" } ?? "")")
            }
        }
    }
}

enum CPlusPlusSimString {
    static let path: String? = ["/usr/bin/simstring", "/usr/local/bin/simstring"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
}
