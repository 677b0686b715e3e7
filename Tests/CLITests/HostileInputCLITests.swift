import Foundation
import Testing
import TestSupport

/// Hostile input (issue 22): no command deletes what it did not make or
/// takes a truncated file for a complete one; numbers out of range are
/// refused by name.
@Suite struct HostileInputCLITests {
    let folder = NSTemporaryDirectory() + "tg-hostile-\(UUID().uuidString)"

    /// `INPUT | thinkgraph ARGUMENTS`.
    func piped(_ input: String, _ arguments: [String]) throws -> CommandResult {
        try Thinkgraph.run(arguments, input: input)
    }

    @Test func simstringBuildNeverReplacesAFolderOrAForeignFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tree = folder + "/d"
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        try "keep\n".write(toFile: tree + "/sub/k.txt", atomically: true, encoding: .utf8)
        for force in [false, true] {
            let built = try piped("a\n", ["simstring", "-b", "-d", tree, "-q"] + (force ? ["--force"] : []))
            #expect(built.status != 0 && built.standardError.contains("is a folder"), "\(built.standardError)")
            #expect(try String(contentsOfFile: tree + "/sub/k.txt", encoding: .utf8) == "keep\n")
        }
        // A file that is not a database is kept unless --force; a database is replaced.
        let notes = folder + "/notes.txt"
        try "my notes\n".write(toFile: notes, atomically: true, encoding: .utf8)
        let refused = try piped("a\n", ["simstring", "-b", "-d", notes, "-q"])
        #expect(refused.status != 0 && refused.standardError.contains("not a SimString database") && refused.standardError.contains("--force"),
                "\(refused.standardError)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes\n")
        let database = folder + "/strings.db"
        #expect(try piped("a\n", ["simstring", "-b", "-d", database, "-q"]).status == 0)
        let rebuilt = try piped("b\n", ["simstring", "-b", "-d", database, "-q"])
        #expect(rebuilt.status == 0, "\(rebuilt.standardError)")
        let forced = try piped("c\n", ["simstring", "-b", "-d", notes, "-q", "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")
        #expect(!FileManager.default.fileExists(atPath: notes + ".partial"))
    }

    @Test func lexiconBuildWithForceNeverRemovesAForeignFolder() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mine = folder + "/photos"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try "x".write(toFile: mine + "/cat.jpg", atomically: true, encoding: .utf8)
        let obo = folder + "/mini.obo"
        try "format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0000001\nname: All\n\n".write(toFile: obo, atomically: true, encoding: .utf8)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", mine, "--obo", obo, "--force", "--quiet"])
        #expect(built.status != 0 && built.standardError.contains("not a lexicon"), "\(built.standardError)")
        #expect(FileManager.default.fileExists(atPath: mine + "/cat.jpg"))
        // Its own earlier build is replaced with --force.
        let lexicon = folder + "/lex"
        #expect(try Thinkgraph.run(["lexicon", "build", "--out", lexicon, "--obo", obo, "--quiet"]).status == 0)
        let again = try Thinkgraph.run(["lexicon", "build", "--out", lexicon, "--obo", obo, "--force", "--quiet"])
        #expect(again.status == 0, "\(again.standardError)")
    }

    /// Printing to a full disk is an error with the system's reason, not a
    /// silently shortened output with status 0.
    @Test func aFailedWriteToStandardOutputIsAnError() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let obo = folder + "/mini.obo"
        let terms = (1...3000).map { "[Term]\nid: HP:\(String(format: "%07d", $0))\nname: finding number \($0)\n" }.joined(separator: "\n")
        try ("format-version: 1.2\nontology: hp\n\n" + terms).write(toFile: obo, atomically: true, encoding: .utf8)
        let lexicon = folder + "/lex"
        #expect(try Thinkgraph.run(["lexicon", "build", "--out", lexicon, "--obo", obo, "--quiet"]).status == 0)
        let process = Process()
        process.executableURL = Thinkgraph.executable
        process.arguments = ["lexicon", "strings", lexicon]
        process.standardOutput = FileHandle(fileDescriptor: open("/dev/full", O_WRONLY), closeOnDealloc: true)
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(message.contains("cannot write standard output: No space left on device"), "\(message)")
    }

    @Test func aTruncatedGzipIsAnErrorNamingTheFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var text = "format-version: 1.2\nontology: hp\n\n"
        for index in 1...3000 { text += "[Term]\nid: HP:\(String(format: "%07d", index))\nname: Term number \(index) of many\n\n" }
        let plain = folder + "/hp.obo"
        try text.write(toFile: plain, atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(plain)' > '\(plain).gz'"]
        try gzip.run()
        gzip.waitUntilExit()
        let whole = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        let complete = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/whole", "--obo", plain + ".gz", "--quiet"])
        #expect(complete.status == 0 && complete.standardOutput.contains("3000 concepts"),
                "\(complete.standardOutput)\(complete.standardError)")
        let cut = folder + "/cut.obo.gz"
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cut))
        let truncated = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/cut", "--obo", cut, "--quiet"])
        #expect(truncated.status != 0 && truncated.standardError.contains("cut.obo.gz") && truncated.standardError.contains("truncated"),
                "\(truncated.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/cut"))
        // Not gzip at all, though named so.
        let fake = folder + "/fake.obo.gz"
        try text.write(toFile: fake, atomically: true, encoding: .utf8)
        let notGzip = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/fake", "--obo", fake, "--quiet"])
        #expect(notGzip.status != 0 && notGzip.standardError.contains("not gzip"), "\(notGzip.standardError)")
    }

    @Test func numbersOutOfRangeAreRefusedByName() throws {
        let none = folder + "/none"
        let cases: [[String]] = [
            ["evidence", "--run", none, "--lexicon", none, "--threshold=nan"], ["evidence", "--run", none, "--lexicon", none, "--threshold=-1"],
            ["evidence", "--run", none, "--lexicon", none, "--topk=0"], ["evidence", "--run", none, "--lexicon", none, "--min-support=0"],
            ["evidence", "--run", none, "--lexicon", none, "--max-hops=0"], ["evidence", "--run", none, "--lexicon", none, "--max-explored=-1"],
            ["evidence", "--run", none, "--lexicon", none, "--chunk-idx=-1"], ["extract", "--run", none, "--lexicon", none, "--chunk-num=0"],
            ["extract", "--run", none, "--lexicon", none, "--value-threshold=nan"],
            ["cooccur", "top", "--run", none, "--task", "t", "--concept", "c", "--min-support=-1"],
            ["reason", "--run", none, "--temperature=nan"], ["reason", "--run", none, "--temperature=-1"],
            ["reason", "--run", none, "--context-window=0"], ["reason", "--run", none, "--limit=-1"],
            ["reason", "--run", none, "--concurrency=0"], ["reason", "--run", none, "--rpm=nan"],
            ["report", "--run", none, "--examples=-1"], ["render", "--run", none, "--sample", "s", "--max-tokens=-5"],
            ["simstring", "-d", none, "--threshold=nan"],
        ]
        for arguments in cases {
            let option = String(arguments.last!.split(separator: "=")[0])
            let result = try Thinkgraph.run(arguments)
            #expect(result.status != 0 && result.standardError.contains(option), "\(arguments): \(result.standardError)")
        }
    }

    /// Timelines of patients whose diagnosis is written in `surfaces` (one
    /// each), in that order.
    func timelines(_ small: SmallRun, _ name: String, surfaces: [String]) throws -> String {
        let lines = surfaces.enumerated().map { index, surface in
            let events = (1...3).map { hour in
                #"{"name":"diagnoses_icd","time":"2100-01-0\#(hour) 10:00:00","admission":"h\#(index)","records":[{"items":{"long_title":"\#(surface)"}}]}"#
            }
            return #"{"patient":"p\#(index)","static":{},"events":[\#(events.joined(separator: ","))]}"#
        }
        return try small.write(name, lines.joined(separator: "\n") + "\n")
    }

    @Test func aStringConceptIsNamedTheSameWhateverSurfaceCameFirst() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        _ = try small.prepare(patients: 1)
        var names: [Set<String>] = []
        for (run, order) in [("first", ["Amoxicillin/Clavulanate", "Amoxicillin/clavulanate"]),
                             ("second", ["Amoxicillin/clavulanate", "Amoxicillin/Clavulanate"])] {
            let folder = try small.makeRun(run, timelines: try timelines(small, run + ".jsonl", surfaces: order))
            let extracted = try Thinkgraph.run(["extract", "--run", folder, "--lexicon", small.lexicon, "--quiet"])
            try #require(extracted.status == 0, "\(extracted.standardError)")
            let text = try String(contentsOfFile: folder + "/extract/chunk-0000-of-0001.jsonl", encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: #""concept":"STR:amoxicillin/clavulanate","name":"([^"]*)""#)
            let found = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { (text as NSString).substring(with: $0.range(at: 1)) }
            try #require(!found.isEmpty, "\(text.prefix(400))")
            names.append(Set(found))
        }
        #expect(names[0] == names[1] && names[0].count == 1, "\(names)")
    }

    @Test func aSecondCooccurrenceWorkerOnOneChunkIsRefused() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 3))
        for arguments in [["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", run]] {
            try #require(try Thinkgraph.run(arguments).status == 0)
        }
        // Another worker holds chunk 0's lock.
        try FileManager.default.createDirectory(atPath: run + "/cooccur", withIntermediateDirectories: true)
        let lockPath = run + "/cooccur/chunk-0000-of-0001.sqlite.lock"
        let held = open(lockPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        try #require(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0)
        let second = try Thinkgraph.run(["cooccur", "--run", run, "--quiet"])
        #expect(second.status != 0 && second.standardError.contains("another worker"), "\(second.standardError)")
        close(held)
        let alone = try Thinkgraph.run(["cooccur", "--run", run, "--quiet"])
        #expect(alone.status == 0, "\(alone.standardError)")
    }

    @Test func aDamagedSimStringIndexIsNoticedAtOpen() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        _ = try small.prepare(patients: 1)
        let document = small.folder + "/note.jsonl"
        try #"{"id":"n1","text":"History of seizures since childhood."}"#.write(toFile: document, atomically: true, encoding: .utf8)
        let first = try Thinkgraph.run(["match", "--lexicon", small.lexicon, document])
        try #require(first.status == 0, "\(first.standardError)")
        #expect(FileManager.default.fileExists(atPath: small.lexicon + "/strings.simstring.verified"))
        // Randomise bytes in the middle of the body (after the header).
        let index = small.lexicon + "/strings.simstring"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: index)))
        var random = SeededRandom(seed: 9)
        for position in (bytes.count / 2)..<min(bytes.count, bytes.count / 2 + 64) { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
        let handle = try #require(FileHandle(forWritingAtPath: index))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
        let damaged = try Thinkgraph.run(["match", "--lexicon", small.lexicon, document])
        #expect(damaged.status != 0 && damaged.standardError.contains("strings.simstring") && damaged.standardError.contains("checksum"),
                "\(damaged.standardError)")
    }

    @Test func aReimportUnderFinishedStagesAndAnotherLexiconAreRefused() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 4))
        for arguments in [["extract", "--run", run, "--lexicon", small.lexicon, "--quiet"], ["extract", "merge", "--run", run],
                          ["cooccur", "--run", run, "--quiet"], ["cooccur", "merge", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            try #require(result.status == 0, "\(arguments): \(result.standardError)")
        }
        // Another lexicon than extract's: evidence refuses it (unless --force).
        let other = small.folder + "/other-lexicon"
        let obo = try small.write("other.obo", "format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0000001\nname: All\n\n")
        try #require(try Thinkgraph.run(["lexicon", "build", "--out", other, "--obo", obo, "--quiet"]).status == 0)
        let wrong = try Thinkgraph.run(["evidence", "--run", run, "--lexicon", other, "--quiet"])
        #expect(wrong.status != 0 && wrong.standardError.contains("not the lexicon extract used"), "\(wrong.standardError)")
        #expect(try Thinkgraph.run(["evidence", "--run", run, "--lexicon", small.lexicon, "--quiet"]).status == 0)
        // With --force (and the finished chunks of the other lexicon removed, as a resume would refuse them).
        try FileManager.default.removeItem(atPath: run + "/evidence")
        let forced = try Thinkgraph.run(["evidence", "--run", run, "--lexicon", other, "--quiet", "--force"])
        #expect(forced.status == 0, "\(forced.standardError)")

        // Another cohort imported over the finished run: later stages and the viewers refuse the mix.
        let sample = try #require(try String(contentsOfFile: run + "/samples.jsonl", encoding: .utf8)
            .split(separator: "\n").first.flatMap { line -> String? in
                let range = line.range(of: #""id":"[^"]*""#, options: .regularExpression)
                return range.map { String(line[$0].dropFirst(6).dropLast()) }
            })
        let cohortB = try timelines(small, "b.jsonl", surfaces: ["Pneumonia", "Seizures"])
        try #require(try Thinkgraph.run(["import", "jsonl", cohortB, "--run", run, "--quiet"]).status == 0)
        for arguments in [["cooccur", "--run", run, "--quiet", "--chunk-num", "2"], ["evidence", "--run", run, "--lexicon", small.lexicon, "--quiet"],
                          ["inspect", "--run", run, sample], ["render", "--run", run, "--sample", sample], ["report", "--run", run]] {
            let result = try Thinkgraph.run(arguments)
            #expect(result.status != 0 && result.standardError.contains("patients.jsonl") && result.standardError.contains("re-run samples"),
                    "\(arguments): \(result.standardError)")
        }
    }

    @Test func hugeStringsAreLeftOutOrRefusedWithALimit() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let huge = String(repeating: "abcdefgh ", count: 20_000)
        let obo = folder + "/big.obo"
        try "format-version: 1.2\nontology: hp\n\n[Term]\nid: HP:0000001\nname: All\n\n[Term]\nid: HP:0000002\nname: \(huge)\n\n"
            .write(toFile: obo, atomically: true, encoding: .utf8)
        let built = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex", "--obo", obo])
        #expect(built.status == 0 && built.standardOutput.contains("1 terms over 4096 bytes left out"), "\(built.standardOutput)\(built.standardError)")
        let index = try FileManager.default.attributesOfItem(atPath: folder + "/lex/strings.simstring")[.size] as? NSNumber
        #expect((index?.intValue ?? .max) < 1 << 20)
        let refused = try piped("short\n" + String(repeating: "x", count: 70_000) + "\n", ["simstring", "-b", "-d", folder + "/s.db", "-q"])
        #expect(refused.status != 0 && refused.standardError.contains("stdin:2:") && refused.standardError.contains("65536"), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/s.db"))
    }

    @Test func theDebrisOfDeadProcessesIsSweptAndNoLiveOnes() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let timelines = try small.prepare(patients: 2)
        let run = small.folder + "/run"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // A process that has exited: its pid names no one now.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let debris = [".patients.jsonl.partial-\(host).\(dead)", ".thinkgraph-partitions-\(host).\(dead)-Ab12Cd",
                      "chunk-0000-of-0001.sqlite.partial-\(host).\(dead)"]
        let kept = [".samples.jsonl.partial-\(host).\(getpid())", ".patients.jsonl.partial-other-node.\(dead)", "notes.partial-draft"]
        for entry in debris + kept {
            if entry.contains("partitions") {
                try FileManager.default.createDirectory(atPath: run + "/" + entry + "/inner", withIntermediateDirectories: true)
            } else {
                try "x".write(toFile: run + "/" + entry, atomically: true, encoding: .utf8)
            }
        }
        let imported = try Thinkgraph.run(["import", "jsonl", timelines, "--run", run, "--quiet"])
        try #require(imported.status == 0, "\(imported.standardError)")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: run))
        for entry in debris { #expect(!left.contains(entry), "\(entry) not swept: \(left)") }
        for entry in kept { #expect(left.contains(entry), "\(entry) removed: \(left)") }
    }

    @Test func garbageIsRefusedWhereItWasAccepted() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
            return folder + "/" + name
        }
        // An empty ontology is not a lexicon.
        let empty = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/empty", "--obo", try write("empty.obo", "")])
        #expect(empty.status != 0 && empty.standardError.contains("empty.obo") && empty.standardError.contains("no [Term]"), "\(empty.standardError)")
        // An ICD code that is a path, and a code twice.
        for (name, codes) in [("path.xml", ["../../etc"]), ("twice.xml", ["A00", "A00"])] {
            let diags = codes.map { "<diag><name>\($0)</name><desc>Cholera</desc></diag>" }.joined()
            let xml = try write(name, "<?xml version=\"1.0\"?><ICD10CM.tabular><chapter><name>1</name><desc>Infections (A00-B99)</desc>"
                + "<section id=\"A00-A09\"><desc>Intestinal (A00-A09)</desc>\(diags)</section></chapter></ICD10CM.tabular>")
            let built = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/" + name + ".lex", "--icd10cm", xml])
            #expect(built.status != 0 && built.standardError.contains(name) && built.standardError.contains("diag.name"), "\(built.standardError)")
        }
        // An MRCONSO row with an empty CUI.
        let umls = folder + "/META"
        try FileManager.default.createDirectory(atPath: umls, withIntermediateDirectories: true)
        try "|ENG|P|L0000001|PF|S0000001|Y|A0000001||||MSH|MH|D000001|Calcimycin|0|N|256|\n"
            .write(toFile: umls + "/MRCONSO.RRF", atomically: true, encoding: .utf8)
        try "".write(toFile: umls + "/MRSTY.RRF", atomically: true, encoding: .utf8)
        let rrf = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/umls", "--umls", umls])
        #expect(rrf.status != 0 && rrf.standardError.contains("MRCONSO.RRF:1") && rrf.standardError.contains("empty identifier"), "\(rrf.standardError)")
        // A JSON object with a member twice.
        let twice = try write("twice.jsonl", #"{"patient":"a","patient":"b","static":{},"events":[]}"# + "\n")
        let validated = try Thinkgraph.run(["import", "validate", twice])
        #expect(validated.status != 0 && (validated.standardOutput + validated.standardError).contains("duplicate member name"),
                "\(validated.standardOutput)\(validated.standardError)")
    }

    @Test func aMisspeltSemanticTypeAndGarbageFilterStatsAreNamed() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        let run = try small.makeRun("run", timelines: try small.prepare(patients: 2))
        let document = try small.write("note.txt", "History of seizures.")
        let bogus = try Thinkgraph.run(["match", "--lexicon", small.lexicon, "--semtypes", "BOGUS", document])
        #expect(bogus.status != 0 && bogus.standardError.contains("--semtypes: BOGUS not in the lexicon"), "\(bogus.standardError)")
        _ = try small.write("run/filter-stats.json", "garbage")
        let report = try Thinkgraph.run(["report", "--run", run])
        #expect(report.status != 0 && report.standardError.contains("filter-stats.json"), "\(report.standardError)")
    }

    /// Benchmarks/fuzz.py with a few cases of every kind: damaged inputs and
    /// stage outputs are refused by name, never crash, never pass for whole.
    @Test func aSeededFuzzOfEveryInputKindFindsNoFailure() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root + "/Benchmarks/fuzz.py", "--cases", "52", "--seed", "7", "--thinkgraph", Thinkgraph.executable.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && text.contains("fuzz: 0 failures"), "\(text)")
    }

    @Test func aDamagedRelationGraphIsBuiltAgainNotUsed() throws {
        let small = SmallRun()
        defer { try? FileManager.default.removeItem(atPath: small.folder) }
        _ = try small.prepare(patients: 1)
        let first = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "seizures", "all"])
        #expect(FileManager.default.fileExists(atPath: small.lexicon + "/relations.graph.seal"), "\(first.standardError)")
        let graph = small.lexicon + "/relations.graph"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: graph)))
        for position in (bytes.count / 2)..<min(bytes.count, bytes.count / 2 + 16) { bytes[position] ^= 0x5A }
        let handle = try #require(FileHandle(forWritingAtPath: graph))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
        let again = try Thinkgraph.run(["evidence", "path", "--lexicon", small.lexicon, "seizures", "all"])
        #expect(again.status == first.status && again.standardOutput == first.standardOutput, "\(again.standardOutput)\(again.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: graph)) != Data(bytes))
    }
}
