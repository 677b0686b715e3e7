import Foundation
import Testing

/// Runs the real `thinkgraph` executable, as a user's shell would.
struct CommandResult {
    var status: Int32
    var standardOutput: String
    var standardError: String
}

enum Thinkgraph {
    /// The executable SwiftPM built next to the test bundle.
    static var executable: URL {
        var folder = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("thinkgraph").path),
              folder.pathComponents.count > 1 {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("thinkgraph")
    }

    /// `input`, if given, is the command's standard input (written from a
    /// thread, so a long one cannot block on a full pipe).
    static func run(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let stdin = input.map { _ in Pipe() }
        if let stdin { process.standardInput = stdin }
        try process.run()
        if let stdin, let input {
            Thread {
                stdin.fileHandleForWriting.write(Data(input.utf8))
                try? stdin.fileHandleForWriting.close()
            }.start()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             standardOutput: String(decoding: outData, as: UTF8.self),
                             standardError: String(decoding: errData, as: UTF8.self))
    }
}

@Suite struct LexiconCLITests {
    let folder = NSTemporaryDirectory() + "thinkgraph-cli-\(UUID().uuidString)"

    func write(_ name: String, _ text: String) throws -> String {
        let path = folder + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func buildInfoAndLookupThroughTheExecutable() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let obo = try write("mini.obo", """
            ontology: hp.obo

            [Term]
            id: HP:0000001
            name: All

            [Term]
            id: HP:0001250
            name: Seizure
            synonym: "Seizures" EXACT []
            xref: UMLS:C0036572
            is_a: HP:0000001
            """)
        let build = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex", "--obo", obo, "--quiet"])
        #expect(build.status == 0)
        #expect(build.standardOutput.contains("2 concepts, 3 strings, 2 relations"))
        #expect(build.standardError.isEmpty)

        let info = try Thinkgraph.run(["lexicon", "info", folder + "/lex"])
        #expect(info.status == 0)
        #expect(info.standardOutput.contains("concepts        2"))
        #expect(info.standardOutput.contains("HPO"))

        let lookup = try Thinkgraph.run(["lexicon", "lookup", folder + "/lex", "SEIZURES"])
        #expect(lookup.status == 0)
        #expect(lookup.standardOutput.hasPrefix("C0036572\tSeizure\n"))
        #expect(lookup.standardOutput.contains("relations: 1 out, 1 in"))

        let missing = try Thinkgraph.run(["lexicon", "lookup", folder + "/lex", "no such term"])
        #expect(missing.status != 0)

        // Building again over an existing lexicon needs --force.
        let again = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex", "--obo", obo, "--quiet"])
        #expect(again.status != 0)
        #expect(again.standardError.contains("already exists"))
    }

    @Test func anIndexOfAnotherFormatVersionIsNamedAndReindexRebuildsIt() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let obo = try write("mini.obo", """
            ontology: hp.obo

            [Term]
            id: HP:0001250
            name: Seizure
            synonym: "Seizures" EXACT []
            """)
        let lexicon = folder + "/lex"
        #expect(try Thinkgraph.run(["lexicon", "build", "--out", lexicon, "--obo", obo, "--quiet"]).status == 0)
        let text = try write("note.txt", "Had a seizure today.")
        let before = try Thinkgraph.run(["match", "--lexicon", lexicon, text])
        #expect(before.status == 0)

        // What an earlier thinkgraph wrote: the same file with version 2.
        let index = lexicon + "/strings.simstring"
        var data = try Data(contentsOf: URL(fileURLWithPath: index))
        data[8] = 2
        try data.write(to: URL(fileURLWithPath: index))
        let refused = try Thinkgraph.run(["match", "--lexicon", lexicon, text])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("\(index): index format version 2 is not supported"))
        #expect(refused.standardError.contains("thinkgraph lexicon reindex \(lexicon)"))

        let reindex = try Thinkgraph.run(["lexicon", "reindex", lexicon])
        #expect(reindex.status == 0, "\(reindex.standardError)")
        #expect(reindex.standardOutput.contains("2 strings"))
        let after = try Thinkgraph.run(["match", "--lexicon", lexicon, text])
        #expect(after.status == 0)
        #expect(after.standardOutput == before.standardOutput)
        #expect(after.standardOutput.contains("HP:0001250"))
        let info = try Thinkgraph.run(["lexicon", "info", lexicon])
        let bytes = try FileManager.default.attributesOfItem(atPath: index)[.size] as! NSNumber
        #expect(info.standardOutput.contains("\(bytes) bytes"))
    }

    @Test func badInputExitsNonZeroNamingFileAndLineAndLeavesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rrf = try write("umls/MRCONSO.RRF", "C1|ENG|P|\n")
        let result = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex", "--umls", folder + "/umls"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("\(rrf):1: malformed MRCONSO.RRF row: expected 18 fields, found 3"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["umls"])

        let noSources = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex"])
        #expect(noSources.status != 0)
        #expect(noSources.standardError.contains("no sources"))
    }
}
