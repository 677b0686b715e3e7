import Foundation
import Testing
import TestSupport

@Suite struct MatchCLITests {
    let folder = NSTemporaryDirectory() + "match-cli-\(UUID().uuidString)"

    func write(_ name: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func buildLexicon() throws -> String {
        let obo = try write("mini.obo", TestOntology.clinical)
        let result = try Thinkgraph.run(["lexicon", "build", "--out", folder + "/lex", "--obo", obo, "--quiet"])
        #expect(result.status == 0)
        return folder + "/lex"
    }

    @Test func jsonlAndPlainTextInputs() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lexicon = try buildLexicon()
        let jsonl = try write("notes.jsonl", """
            {"id": "a", "text": "Fever and no headache."}
            {"id": 7, "text": ""}
            """)
        let result = try Thinkgraph.run(["match", "--lexicon", lexicon, jsonl])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(first["id"] as? String == "a")
        let mentions = first["mentions"] as! [[String: Any]]
        #expect(mentions.map { $0["cui"] as! String } == ["C0015967", "C0018681"])
        #expect(mentions.map { ($0["context"] as! [String: Bool])["negated"]! } == [false, true])
        #expect(mentions.map { $0["start"] as! Int } == [0, 13])
        #expect(lines[1] == #"{"id":7,"mentions":[]}"#)

        let text = try write("note.txt", "Headache since Monday.\nFever.")
        let plain = try Thinkgraph.run(["match", "--lexicon", lexicon, text])
        #expect(plain.status == 0)
        #expect(plain.standardOutput.split(separator: "\n").count == 1)
        #expect(plain.standardOutput.contains("C0018681") && plain.standardOutput.contains("C0015967"))
    }

    @Test func badDocumentsAreErrorsWithTheirLine() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lexicon = try buildLexicon()
        let broken = try write("broken.jsonl", "{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2, \"text\": \n")
        var result = try Thinkgraph.run(["match", "--lexicon", lexicon, broken])
        #expect(result.status != 0)
        #expect(result.standardError.contains("\(broken):2: not a JSON object"))
        let missing = try write("missing.jsonl", "{\"id\": 1}\n")
        result = try Thinkgraph.run(["match", "--lexicon", lexicon, missing])
        #expect(result.standardError.contains("\(missing):1: field text: missing"))
        let wrongTypes = try write("types.jsonl", "{\"id\": 1, \"text\": 5}\n")
        result = try Thinkgraph.run(["match", "--lexicon", lexicon, wrongTypes])
        #expect(result.status != 0 && result.standardError.contains("\(wrongTypes):1: field text: must be a string"))
        let badID = try write("ids.jsonl", "{\"id\": \"a\", \"text\": \"fever\"}\n{\"id\": 1.5, \"text\": \"fever\"}\n")
        result = try Thinkgraph.run(["match", "--lexicon", lexicon, badID])
        #expect(result.status != 0 && result.standardError.contains("\(badID):2: field id: must be a string or an integer"))
        let badRules = try write("rules.tsv", "no\tnegated\tsideways\n")
        result = try Thinkgraph.run(["match", "--lexicon", lexicon, "--context-triggers", badRules, missing])
        #expect(result.status != 0)
        #expect(result.standardError.contains("\(badRules):1: unknown direction sideways"))
    }
}
