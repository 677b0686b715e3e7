import Foundation
import Testing
import TGSupport
@testable import Runtime

/// The extract, verdict and dataset records are read as strictly as the
/// evidence record: what a stage writes comes back the same, and a field
/// that is missing, mistyped or contradicts the rest is named with its
/// file and line.
@Suite struct StageRecordTests {
    static let extract = ExtractRecord(id: "p1", events: [
        .init(event: 3, name: "labevents", concepts: [
            .init(concept: "LOINC:2951-2", name: "Sodium", surface: "Sodium", link: "exact", similarity: 1, field: "label"),
            .init(concept: "HP:0002090", name: "Pneumonia", surface: "pneumonia", link: "text", similarity: 0.875, field: "text",
                  negated: true, family: true),
        ]),
    ])

    static let verdicts = VerdictRecord(id: "p1:emar:1", task: "emar", verdicts: [
        .init(reasons: [], coverage: 1),
        .init(reasons: ["says \"ground truth\""], coverage: 0.5),
        .init(reasons: [], coverage: nil, code: "I10", level: "full"),
    ])

    static let example = DatasetRecord(
        id: "p1:emar:1", task: "emar", instruction: "Predict the drugs.", input: "## admissions [2150-01-01 10:00:00]",
        targets: ["Furosemide"], targetCodes: [], graph: EvidenceRecord.emptyGraph, chains: ["## Extraction\n..."],
        model: "gpt-4o", usage: .init(promptTokens: 900, completionTokens: 300, requests: 1),
        provenance: .init(run: "demo", template: "ehr-r1", templateSHA256: "ab12", host: "127.0.0.1", parameters: "{}",
                          source: "reasoning.jsonl:4"))

    /// `record`'s JSON with the member at `path` (keys and array indices)
    /// replaced, or removed with nil.
    static func altered(_ record: JSONValue, _ path: [Any], _ value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        let rest = Array(path.dropFirst())
        switch (record, first) {
        case (.object(var members), let key as String):
            guard let index = members.firstIndex(where: { $0.0 == key }) else { return record }
            if rest.isEmpty, value == nil { members.remove(at: index) } else { members[index].1 = altered(members[index].1, rest, value) }
            return .object(members)
        case (.array(var items), let index as Int):
            items[index] = altered(items[index], rest, value)
            return .array(items)
        default:
            return record
        }
    }

    @Test func whatTheStagesWriteComesBackTheSame() throws {
        for (text, read) in [
            (Self.extract.json.jsonText, { try ExtractRecord(json: JSONValue.parse($0), file: "extract.jsonl", line: 1).json.jsonText }),
            (Self.verdicts.json.jsonText, { try VerdictRecord(json: JSONValue.parse($0), file: "filter.jsonl", line: 1).json.jsonText }),
            (Self.example.json.jsonText, { try DatasetRecord(json: JSONValue.parse($0), file: "dataset.jsonl", line: 1).json.jsonText }),
        ] as [(String, (String) throws -> String)] {
            #expect(try read(text) == text)
        }
        #expect(try ExtractRecord(json: Self.extract.json, file: "e", line: 1) == Self.extract)
        #expect(try VerdictRecord(json: Self.verdicts.json, file: "f", line: 1).kept == 2)
        #expect(try DatasetRecord(json: Self.example.json, file: "d", line: 1) == Self.example)
    }

    @Test func anExtractRecordNamesItsDamagedField() throws {
        func error(_ path: [Any], _ value: JSONValue?) -> InputError? {
            #expect(throws: InputError.self) {
                try ExtractRecord(json: Self.altered(Self.extract.json, path, value), file: "extract.jsonl", line: 12)
            }
        }
        #expect(error(["id"], nil)?.field == "id")
        #expect(error(["events", 0, "event"], .string("3"))?.field == "events[0].event")
        #expect(error(["events", 0, "event"], .integer(-1))?.message == "a negative event index")
        let similarity = error(["events", 0, "concepts", 1, "similarity"], nil)
        #expect(similarity?.field == "events[0].concepts[1].similarity" && similarity?.line == 12 && similarity?.file == "extract.jsonl")
        #expect(error(["events", 0, "concepts", 1, "negated"], .string("yes"))?.field == "events[0].concepts[1].negated")
        #expect(error(["events", 0, "concepts", 0, "name"], nil)?.message == "missing")
    }

    @Test func aVerdictRecordMustAgreeWithItself() throws {
        func error(_ path: [Any], _ value: JSONValue?) -> InputError? {
            #expect(throws: InputError.self) {
                try VerdictRecord(json: Self.altered(Self.verdicts.json, path, value), file: "filter.jsonl", line: 2)
            }
        }
        #expect(error(["kept"], .integer(3))?.field == "kept")
        #expect(error(["verdicts", 1, "kept"], .bool(true))?.field == "verdicts[1].kept")
        #expect(error(["verdicts", 0, "reasons"], nil)?.field == "verdicts[0].reasons")
        #expect(error(["verdicts", 0, "coverage"], .string("1"))?.field == "verdicts[0].coverage")
        #expect(error(["task"], nil)?.line == 2)
    }

    @Test func aDatasetExampleNamesItsDamagedField() throws {
        func error(_ path: [Any], _ value: JSONValue?) -> InputError? {
            #expect(throws: InputError.self) {
                try DatasetRecord(json: Self.altered(Self.example.json, path, value), file: "dataset.jsonl", line: 9)
            }
        }
        #expect(error(["chains"], .array([]))?.message == "no kept chain")
        #expect(error(["graph"], .string("none"))?.field == "graph")
        #expect(error(["usage", "requests"], nil)?.field == "usage.requests")
        #expect(error(["provenance", "source"], .integer(4))?.field == "provenance.source")
        #expect(error(["target"], nil)?.field == "target")
    }
}

/// Each run file's record format is recorded in run.json beside its
/// checksum; a file written in another format is refused, even with
/// --force, and every stage's inputs come from one table.
@Suite struct RunFileTests {
    @Test func theStageTableIsConsistent() {
        for stage in PipelineStage.allCases {
            for input in stage.inputs {
                // Every input is written by an earlier stage.
                #expect(PipelineStage.allCases.firstIndex(of: input.producer)! < PipelineStage.allCases.firstIndex(of: stage)!,
                        "\(stage) reads \(input)")
            }
            #expect(!stage.outputs.isEmpty, "\(stage) writes nothing")
        }
        #expect(Set(RunFile.all.map(\.name)).count == RunFile.all.count)
        #expect(PipelineStage.reasoning.command == "reason")
        #expect(RunFile.named("evidence.jsonl") == .evidence)
    }

    @Test func aFileInAnotherRecordFormatIsRefused() throws {
        let folder = NSTemporaryDirectory() + "tg-formats-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try RunFolder(folder)
        try Data("{\"id\":\"p1\",\"events\":[]}\n".utf8).write(to: URL(fileURLWithPath: run.path(of: .extract)))
        var manifest = try RunManifest(directory: folder)
        var stage = RunManifest.Stage(status: "complete")
        try stage.recordOutputs([.extract], in: run)
        manifest.set("extract", stage)
        try manifest.save()
        // As written: accepted, and the format is in run.json.
        #expect(try run.verify(.extract, force: false).count == 64)
        #expect(try RunManifest(directory: folder).stage("extract")?.formats.first?.1 == RunFile.extract.format)
        // A later format (a newer thinkgraph wrote it) is refused, --force or not.
        stage.formats = [("extract.jsonl", RunFile.extract.format + 1)]
        manifest.set("extract", stage)
        try manifest.save()
        for force in [false, true] {
            let error = #expect(throws: UsageError.self) { try run.verify(.extract, force: force) }
            #expect(error?.message.contains("record format \(RunFile.extract.format + 1)") == true)
            #expect(error?.message.contains("re-run extract") == true)
        }
        // A run made before formats were recorded is read as it is.
        stage.formats = []
        manifest.set("extract", stage)
        try manifest.save()
        #expect(try run.verify(.extract, force: false).count == 64)
    }
}
