import Foundation
import Testing
import TestSupport

/// `instruct notes` on a generated MIMIC-shaped cohort with discharge
/// notes: two chunk workers as real processes against the fault server
/// (which answers each note with one pair of every kind the filter tells
/// apart), resume, faults; then the local model (llama.cpp) as a real server.
@Suite(.serialized) struct InstructNotesCLITests {
    /// A cohort of 60 patients, about half with a discharge note, imported and split.
    static func run(_ small: SmallRun) throws -> String {
        let cohort = small.folder + "/cohort"
        let generator = LoopbackServer.repository.appendingPathComponent("Benchmarks/gen_mimic.py").path
        let generated = try Shell.run(["python3", generator, cohort + "/hosp", "6000", "60", "--full", "0.5"])
        try #require(generated.status == 0, "\(generated.errors)")
        let run = small.folder + "/run"
        for arguments in [["import", "mimic", "--hosp", cohort + "/hosp", "--note", cohort + "/note", "--run", run, "--quiet"],
                          ["samples", "--run", run, "--json"]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        return run
    }

    @Test func chunkWorkersAskEachNoteOnceAndTheFilterKeepsOnlyGroundedUncopiedPairs() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small)
        let log = small.folder + "/requests.jsonl"
        // Every first request of a note fails once (429, then 500 for the next): the client retries.
        let server = try LoopbackServer.faults(log: log, ["--script", "429"])
        let base = "http://127.0.0.1:\(server.announced)/v1"
        func worker(_ index: Int) throws -> CommandResult {
            try Thinkgraph.run(["instruct", "notes", "--run", run, "--base-url", base, "--model", "fault", "--limit", "8",
                                "--chunk-num", "2", "--chunk-idx", String(index), "--retry-base", "0.05", "--quiet"])
        }
        for index in 0..<2 {
            let result = try worker(index)
            #expect(result.status == 0, "\(result.standardError)")
        }
        let asked = RequestLog(path: log).delivered
        #expect(asked == 8, "one completion per note")
        // Run again: both chunks are finished, nothing is asked.
        for index in 0..<2 { #expect(try worker(index).status == 0) }
        #expect(RequestLog(path: log).delivered == asked)

        let merged = try Thinkgraph.run(["instruct", "notes-merge", "--run", run])
        #expect(merged.status == 0, "\(merged.standardError)")
        let records = try InstructCLITests.jsonLines(run + "/notes-qa.jsonl")
        #expect(records.count == 8 && records.allSatisfy { $0["status"] as? String == "ok" && $0["split"] as? String == "train" })
        #expect(records.allSatisfy { ($0["attempts"] as? Int ?? 0) >= 2 }, "each note's first attempt met a 429")

        let filtered = try Thinkgraph.run(["instruct", "notes-filter", "--run", run, "--json"])
        #expect(filtered.status == 0, "\(filtered.standardError)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(filtered.standardOutput.utf8)) as? [String: Any])
        #expect(stats["pairs"] as? Int == 40 && stats["kept"] as? Int == 8 && stats["unreadable_lines"] as? Int == 8)
        #expect(stats["rejected"] as? [String: Int] == ["duplicate": 8, "no_citation": 8, "ungrounded": 8, "copies_note": 8])

        // Each kept answer cites an event of its patient's admission, at a time before the note, as the record has it.
        let patients = Dictionary(uniqueKeysWithValues: try InstructCLITests.jsonLines(run + "/patients.jsonl").map {
            ($0["patient"] as! String, $0["events"] as! [[String: Any]])
        })
        let kept = try InstructCLITests.jsonLines(run + "/instruct-notes.jsonl")
        #expect(kept.count == 8)
        for pair in kept {
            let answer = pair["answer"] as! String
            let events = try #require(patients[pair["patient"] as! String])
            let time = try #require(answer.range(of: #"\[(\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?)\]"#, options: .regularExpression)
                .map { String(answer[$0].dropFirst().dropLast()) })
            let note = events[pair["note_event"] as! Int]
            #expect(note["name"] as? String == "discharge")
            #expect(events.contains { ($0["time"] as! String).hasPrefix(time) && $0["admission"] as? String == pair["admission"] as? String
                                      && ($0["time"] as! String) < (note["time"] as! String) }, "\(answer)")
            #expect(pair["source"] as? String == "notes" && pair["question"] as? String == "What was the last event recorded before the note?")
        }
    }

    /// The Batch API way: the exported requests, each answered by the fault
    /// server over HTTP as the Batch API would (one an error), read back;
    /// the filter then judges them as the live answers.
    @Test func batchExportAndImportFeedTheFilter() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small)
        let exported = try Thinkgraph.run(["instruct", "notes", "--run", run, "--export-batch", "--limit", "5"])
        #expect(exported.status == 0, "\(exported.standardError)")
        let inputs = try InstructCLITests.jsonLines(run + "/notes-batch/input-0001.jsonl")
        #expect(inputs.count == 5 && inputs.allSatisfy { $0["url"] as? String == "/v1/chat/completions" })
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", [])
        var lines: [String] = []
        for (index, input) in inputs.enumerated() {
            let id = input["custom_id"] as! String
            guard index > 0 else {
                lines.append(#"{"id":"batch_req_0","custom_id":"\#(id)","response":null,"error":{"code":"server_error","message":"failed"}}"#)
                continue
            }
            let body = try small.write("body.json", String(decoding: try JSONSerialization.data(withJSONObject: input["body"]!), as: UTF8.self))
            let answered = try Shell.run(["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + body,
                                          "http://127.0.0.1:\(server.announced)/v1/chat/completions"])
            try #require(answered.status == 0 && answered.output.hasPrefix("{"), "\(answered.errors)")
            lines.append(#"{"id":"batch_req_\#(index)","custom_id":"\#(id)","response":{"status_code":200,"request_id":"r","body":\#(answered.output)},"error":null}"#)
        }
        let output = try small.write("batch_output.jsonl", lines.joined(separator: "\n") + "\n")
        let imported = try Thinkgraph.run(["instruct", "notes", "--run", run, "--import-batch", output])
        #expect(imported.status == 0, "\(imported.standardError)")
        let records = try InstructCLITests.jsonLines(run + "/notes-qa.jsonl")
        #expect(records.filter { $0["status"] as? String == "ok" }.count == 4 && records.filter { $0["status"] as? String == "failed" }.count == 1)
        let filtered = try Thinkgraph.run(["instruct", "notes-filter", "--run", run, "--json"])
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(filtered.standardOutput.utf8)) as? [String: Any])
        #expect(stats["kept"] as? Int == 4 && stats["notes_answered"] as? Int == 4, "\(filtered.standardOutput)")
    }

    /// `export instruct`: both kinds in a folder that `datasets` loads, one
    /// config each, only training patients, the card's sizes right.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: ReasonCLITests.datasetsPython), "datasets is not installed (Pipelines/test-data.sh)"))
    func theInstructionDataLoadsAsADataset() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small)
        let server = try LoopbackServer.faults(log: small.folder + "/requests.jsonl", [])
        for arguments in [["instruct", "templates", "--run", run, "--split", "all"],
                          ["instruct", "notes", "--run", run, "--base-url", "http://127.0.0.1:\(server.announced)/v1", "--model", "fault",
                           "--limit", "6", "--quiet"],
                          ["instruct", "notes-merge", "--run", run], ["instruct", "notes-filter", "--run", run],
                          ["export", "instruct", "--run", run, "--out", small.folder + "/shared"]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        let templates = try InstructCLITests.jsonLines(run + "/instruct-templates.jsonl").filter { $0["split"] as? String == "train" }.count
        let notes = try InstructCLITests.jsonLines(run + "/instruct-notes.jsonl").count
        let environment = ReasonCLITests.offlineDatasets(home: small.folder + "/hf")
        let load = try Shell.run([ReasonCLITests.datasetsPython, "-c", """
            import sys, yaml, datasets
            header = yaml.safe_load(open(sys.argv[1] + "/README.md").read().split("---")[1])
            sizes = {c["config_name"]: c["splits"][0]["num_examples"] for c in header["dataset_info"]}
            t = datasets.load_dataset(sys.argv[1], "templates", split="train")
            n = datasets.load_dataset(sys.argv[1], "notes", split="train")
            print(len(t), sizes["templates"], len(n), sizes["notes"], set(t["split"]), sorted(n.features)[:3])
            """, small.folder + "/shared"], environment: environment)
        #expect(load.status == 0, "\(load.errors)")
        #expect(load.output.hasPrefix("\(templates) \(templates) \(notes) \(notes) {'train'} ['admission', 'answer', 'id']"), "\(load.output)")
        #expect(notes > 0)
    }

    @Test func aBadPromptFileStopsBeforeAnythingIsAsked() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let prompt = try small.write("prompt.txt", "Write {pairs} pairs about {context}.")
        let result = try Thinkgraph.run(["instruct", "notes", "--run", small.folder, "--prompt", prompt, "--base-url", "http://127.0.0.1:9/v1"])
        #expect(result.status != 0)
        let missing = try Thinkgraph.run(["instruct", "notes-filter", "--run", small.folder])
        #expect(missing.status != 0 && missing.standardError.contains("instruct notes-merge"))
        let shipped = try Thinkgraph.run(["instruct", "notes", "--print-default-prompt"])
        #expect(shipped.standardOutput.contains("{note}") && shipped.standardOutput.contains("{context}"))
    }

    /// llama.cpp's server with SmolLM2-135M: the stage's requests are
    /// answered for real (whatever the small model writes, the filter
    /// accounts for every line).
    @Test(.enabled(if: RealModelReasonTests.modelInstalled, "the local model is not installed: bash Pipelines/local-model.sh fetch"))
    func theLocalModelAnswersAndTheFilterAccountsForEveryPair() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try Self.run(small)
        let server = try LoopbackServer("/bin/bash", [LoopbackServer.repository.appendingPathComponent("Pipelines/local-model.sh").path,
                                                      "serve", String(LoopbackServer.freePort()), "2048"], waitSeconds: 120)
        let result = try Thinkgraph.run(["instruct", "notes", "--run", run, "--base-url", server.announced, "--model", "smollm2",
                                         "--limit", "2", "--pairs", "2", "--max-tokens", "96", "--max-context-tokens", "400",
                                         "--max-note-tokens", "400", "--concurrency", "1", "--quiet"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Thinkgraph.run(["instruct", "notes-merge", "--run", run]).status == 0)
        let records = try InstructCLITests.jsonLines(run + "/notes-qa.jsonl")
        #expect(records.count == 2)
        for record in records {
            #expect(record["status"] as? String == "ok", "\(record["error"] ?? "")")
            let usage = record["usage"] as? [String: Any] ?? [:]
            #expect((usage["prompt_tokens"] as? Int ?? 0) > 200 && (usage["completion_tokens"] as? Int ?? 0) > 0)
        }
        let filtered = try Thinkgraph.run(["instruct", "notes-filter", "--run", run, "--json"])
        #expect(filtered.status == 0, "\(filtered.standardError)")
        let stats = try #require(try JSONSerialization.jsonObject(with: Data(filtered.standardOutput.utf8)) as? [String: Any])
        let rejected = (stats["rejected"] as? [String: Int] ?? [:]).values.reduce(0, +)
        #expect((stats["kept"] as? Int ?? -1) + rejected == stats["pairs"] as? Int)
    }
}
