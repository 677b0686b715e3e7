import Foundation
import Testing
import TestSupport

/// A real one-node Slurm cluster (Debian's munge, slurmctld and slurmd,
/// through Pipelines/slurm/local-cluster.sh) for the length of a test.
final class LocalCluster {
    static let script = LoopbackServer.repository.appendingPathComponent("Pipelines/slurm/local-cluster.sh").path
    static let submitScript = LoopbackServer.repository.appendingPathComponent("Pipelines/slurm/submit.sh").path

    /// Whether the packages are there or can be installed (the only reason
    /// to skip these tests).
    static let available: Bool = {
        let packages = ["munge", "slurmctld", "slurmd", "slurm-client"]
        let install = LoopbackServer.repository.appendingPathComponent("Pipelines/apt-install.sh").path
        return (try? Shell.run(["bash", install] + packages).status) == 0
    }()

    let folder = NSTemporaryDirectory() + "tg-slurm-\(getpid())-\(UUID().uuidString.prefix(8))"
    let environment: [String: String]

    init() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["THINKGRAPH_SLURM_DIR"] = folder
        environment["THINKGRAPH_SLURM_PORT"] = String(LoopbackServer.freePortPair())
        let started = try Shell.run(["bash", Self.script, "start"], environment: environment)
        guard started.status == 0, let line = started.output.split(separator: "\n").first, line.hasPrefix("export SLURM_CONF=") else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "local cluster: \(started.errors)"])
        }
        environment["SLURM_CONF"] = String(line.dropFirst("export SLURM_CONF=".count))
        environment["THINKGRAPH"] = Thinkgraph.executable.path
        self.environment = environment
    }

    deinit { _ = try? Shell.run(["bash", Self.script, "stop"], environment: environment) }

    func submit(_ run: String, _ options: [String]) throws -> Shell.Result {
        try Shell.run(["bash", Self.submitScript, run] + options, environment: environment)
    }

    /// Waits until the queue is empty (every job finished, failed or was cancelled).
    func waitForJobs(timeout: Double = 240) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let queue = try Shell.run(["squeue", "-h", "-o", "%i %T"], environment: environment)
            if queue.status == 0 && queue.output.isEmpty { return }
            usleep(300_000)
        }
        let queue = try Shell.run(["squeue"], environment: environment)
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "jobs still queued: \(queue.output)"])
    }

    func cancel(_ job: String) throws {
        let result = try Shell.run(["scancel", job], environment: environment)
        try #require(result.status == 0, "\(result.errors)")
    }
}

/// A command and its outputs.
enum Shell {
    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `arguments` to its end. Outputs go to files, not pipes: the
    /// cluster's daemons and job steps outlive the command, and a pipe
    /// read to its end would wait for them.
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let folder = NSTemporaryDirectory() + "tg-shell-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outputPath = folder + "/out", errorsPath = folder + "/err"
        try Data().write(to: URL(fileURLWithPath: outputPath))
        try Data().write(to: URL(fileURLWithPath: errorsPath))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return Result(status: process.terminationStatus, output: try String(contentsOfFile: outputPath, encoding: .utf8),
                      errors: try String(contentsOfFile: errorsPath, encoding: .utf8))
    }
}

/// The pipeline through `Pipelines/slurm/submit.sh` on a real cluster: the
/// same records as a local run, a cancelled array task resubmitted without
/// asking again what was answered, a failing chunk's error in `status` and
/// in its job's log.
@Suite(.serialized, .enabled(if: LocalCluster.available, "Slurm packages (munge, slurmctld, slurmd, slurm-client) cannot be installed here"))
struct SlurmCLITests {
    static let evidenceOptions = ["--threshold", "0", "--min-support", "1"]

    /// A run folder through samples, named `run` inside `parent`.
    static func sampledRun(_ small: SmallRun, patients: Int = 6) throws -> String {
        try small.makeRun("run", timelines: try small.prepare(patients: patients, ontology: EvidenceCLITests.ontology))
    }

    static func reasonOptions(_ server: LoopbackServer, extra: [String] = []) -> [String] {
        ["--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "test-model", "--n", "2", "--template", "without-knowledge",
         "--retry-base", "0.05"] + extra
    }

    /// Stages 1-5 in this process, one worker each.
    static func runLocally(_ run: String, lexicon: String, reason: [String]) throws {
        for arguments in [["extract", "--run", run, "--lexicon", lexicon, "--quiet"], ["extract", "merge", "--run", run],
                          ["cooccur", "--run", run, "--quiet"], ["cooccur", "merge", "--run", run],
                          ["evidence", "--run", run, "--lexicon", lexicon, "--quiet"] + evidenceOptions, ["evidence", "merge", "--run", run],
                          ["reason", "--run", run, "--quiet"] + reason, ["reason", "merge", "--run", run], ["filter", "--run", run, "--lexicon", lexicon]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
    }

    /// A JSONL file's records in a canonical order (chunked stages merge
    /// chunk by chunk), with the fields that differ between two runs of the
    /// same input left out: a request's wall time (`seconds`) and the line
    /// of another file a record names (`provenance.source`).
    static func records(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line -> String in
            var record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            record["seconds"] = nil
            if var provenance = record["provenance"] as? [String: Any] {
                provenance["source"] = nil
                record["provenance"] = provenance
            }
            return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        }.sorted()
    }

    static func submitOptions(_ small: SmallRun, reason: [String], chunks: Int = 2) -> [String] {
        ["--lexicon", small.lexicon, "--chunks", String(chunks), "--evidence-options", evidenceOptions.joined(separator: " "),
         "--reason-options", reason.joined(separator: " ")]
    }

    @Test func theWholePipelineThroughSlurmEqualsALocalRun() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let cluster = try LocalCluster()
        let run = try Self.sampledRun(small)
        let local = small.folder + "/local/run"
        try FileManager.default.createDirectory(atPath: small.folder + "/local", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run, toPath: local)
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", [])
        try Self.runLocally(local, lexicon: small.lexicon, reason: Self.reasonOptions(server))

        let submitted = try cluster.submit(run, Self.submitOptions(small, reason: Self.reasonOptions(server)))
        try #require(submitted.status == 0, "\(submitted.errors)")
        for stage in ["extract: array", "cooccur: array", "evidence: array", "reason: array", "filter: ", "report: "] {
            #expect(submitted.output.contains(stage), "\(submitted.output)")
        }
        try cluster.waitForJobs()
        for file in ["extract.jsonl", "evidence.jsonl", "reasoning.jsonl", "dataset.jsonl", "filter.jsonl"] {
            let slurm = try Self.records(run + "/" + file), alone = try Self.records(local + "/" + file)
            #expect(!slurm.isEmpty && slurm == alone, "\(file): \(slurm.count) records through Slurm, \(alone.count) alone")
        }
        #expect(FileManager.default.fileExists(atPath: run + "/report.html"))
        // Nothing left to do: a second submit submits nothing.
        let again = try cluster.submit(run, Self.submitOptions(small, reason: Self.reasonOptions(server)))
        #expect(again.status == 0 && again.output.contains("nothing to submit"), "\(again.output)\(again.errors)")
    }

    @Test func aCancelledArrayTaskResubmittedAsksNothingTwice() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let cluster = try LocalCluster()
        let run = try Self.sampledRun(small, patients: 8)
        let log = small.folder + "/requests.jsonl"
        // Slow answers, one at a time, each record saved when it comes back.
        let server = try LoopbackServer.faults(log: log, ["--delay", "0.5"])
        let reason = Self.reasonOptions(server, extra: ["--concurrency", "1", "--save-every", "1"])
        let submitted = try cluster.submit(run, Self.submitOptions(small, reason: reason, chunks: 1))
        try #require(submitted.status == 0, "\(submitted.errors)")
        let line = try #require(submitted.output.split(separator: "\n").first { $0.hasPrefix("reason: array ") })
        let arrayJob = String(line.split(separator: " ")[2])
        // Cancel the reason task once it has written a few records.
        let chunk = run + "/reasoning/chunk-0000-of-0001.jsonl"
        let deadline = Date().addingTimeInterval(180)
        func written() -> Int {
            ((try? String(contentsOfFile: chunk, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        while written() < 3 && Date() < deadline { usleep(100_000) }
        try #require(written() >= 3, "the reason task wrote nothing")
        try cluster.cancel(arrayJob)
        try cluster.waitForJobs()
        let before = written()
        let status = try Thinkgraph.run(["status", "--run", run, "--json"])
        #expect(status.standardOutput.contains(#""stage":"reasoning""#))
        #expect(!FileManager.default.fileExists(atPath: run + "/dataset.jsonl"), "filter ran after a cancelled stage")

        let resubmitted = try cluster.submit(run, Self.submitOptions(small, reason: reason, chunks: 1))
        try #require(resubmitted.status == 0, "\(resubmitted.errors)")
        #expect(resubmitted.output.contains("evidence: complete") && resubmitted.output.contains("reason: array"), "\(resubmitted.output)")
        try cluster.waitForJobs()
        let records = try Self.records(run + "/reasoning.jsonl")
        #expect(records.count > before)
        // Each prompt was answered once; at most the one request in flight
        // when the task was cancelled is asked again.
        let keys = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["key"] as? String
        }
        #expect(keys.count - Set(keys).count <= 1, "\(keys.count) requests for \(Set(keys).count) prompts")
        #expect(Set(keys).count == records.count)
        // The same dataset as an uninterrupted run of the same stage.
        let local = small.folder + "/local/run"
        try FileManager.default.createDirectory(atPath: small.folder + "/local", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: run, toPath: local)
        for name in ["reasoning", "reasoning.jsonl", "dataset.jsonl", "filter.jsonl", "filter-stats.json"] {
            try FileManager.default.removeItem(atPath: local + "/" + name)
        }
        let reference = try LoopbackServer.faults(log: small.folder + "/reference.jsonl", [])
        for arguments in [["reason", "--run", local, "--quiet"] + Self.reasonOptions(reference), ["reason", "merge", "--run", local],
                          ["filter", "--run", local, "--lexicon", small.lexicon]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        #expect(try Self.records(run + "/dataset.jsonl") == Self.records(local + "/dataset.jsonl"))
    }

    @Test func aFailingChunkShowsItsErrorInStatusAndItsLog() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let cluster = try LocalCluster()
        let run = try Self.sampledRun(small, patients: 3)
        let missing = small.folder + "/no-such-tasks.json"
        let submitted = try cluster.submit(run, ["--lexicon", small.lexicon, "--chunks", "2", "--until", "extract",
                                                 "--extract-options", "--tasks \(missing)"])
        try #require(submitted.status == 0, "\(submitted.errors)")
        try cluster.waitForJobs()
        let status = try Thinkgraph.run(["status", "--run", run])
        #expect(status.status == 0)
        #expect(status.standardOutput.contains("failed: chunk 0, 1"), "\(status.standardOutput)")
        #expect(status.standardOutput.contains("last error") && status.standardOutput.contains(missing), "\(status.standardOutput)")
        #expect(status.standardOutput.contains("Slurm job"), "\(status.standardOutput)")
        let logs = try FileManager.default.contentsOfDirectory(atPath: run + "/logs/slurm").filter { $0.hasPrefix("extract-") && !$0.contains("merge") }
        #expect(logs.count == 2)
        for name in logs {
            #expect(try String(contentsOfFile: run + "/logs/slurm/" + name, encoding: .utf8).contains(missing), "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: run + "/extract.jsonl"))
    }
}
