import Testing
import TGSupport
@testable import Runtime

/// The evidence record is read strictly: what the stage writes comes back
/// the same, and a record that lacks a field or contradicts itself is
/// refused with the file, line and field, never filled with a default.
@Suite struct EvidenceRecordTests {
    static let written = EvidenceRecord(
        id: "p1:diagnoses_icd:1", task: "diagnoses_icd", split: "train", targets: ["ICD10CM:I10"],
        pairs: [.init(target: "ICD10CM:I10", history: "HP:0000822", lift: 2.5, count: 4),
                .init(target: "ICD10CM:I10", history: "STR:salt", lift: 1.25, count: 2)],
        paths: [.init(target: "ICD10CM:I10", history: "HP:0000822", steps: ["Essential hypertension", "same as", "Hypertension"],
                      concepts: ["ICD10CM:I10", "HP:0000822"], hops: 1)])

    static func parse(_ text: String) throws -> EvidenceRecord {
        try EvidenceRecord(json: JSONValue.parse(text), file: "evidence.jsonl", line: 7)
    }

    @Test func whatTheStageWritesComesBackTheSame() throws {
        let text = Self.written.json.jsonText
        let read = try Self.parse(text)
        #expect(read == Self.written)
        #expect(read.json.jsonText == text)
        #expect(read.status == .graph)
        #expect(read.paths[0].line == "Essential hypertension -> same as -> Hypertension")
        #expect(read.paths[0].terms == ["Essential hypertension", "Hypertension"])
        #expect(EvidenceRecord(id: "x", task: "t", split: "test", targets: [], pairs: [], paths: []).status == .noPairs)
        #expect(EvidenceRecord(id: "x", task: "t", split: "test", targets: [], pairs: Self.written.pairs, paths: []).status == .noPath)
    }

    /// The record with one member replaced (or removed, with nil).
    static func altered(_ key: String, _ value: JSONValue?) -> String {
        guard case .object(var members) = written.json else { return "" }
        if let index = members.firstIndex(where: { $0.0 == key }) {
            if let value { members[index].1 = value } else { members.remove(at: index) }
        }
        return JSONValue.object(members).jsonText
    }

    @Test func aMissingOrMistypedFieldIsNamedWithItsLine() throws {
        for key in ["id", "task", "split", "status", "targets", "pairs", "paths"] {
            let error = #expect(throws: InputError.self) { try Self.parse(Self.altered(key, nil)) }
            #expect(error?.field == key && error?.line == 7 && error?.file == "evidence.jsonl" && error?.message == "missing", "\(key)")
        }
        let status = #expect(throws: InputError.self) { try Self.parse(Self.altered("status", .string("found"))) }
        #expect(status?.message == "unknown value \"found\"")
        let targets = #expect(throws: InputError.self) { try Self.parse(Self.altered("targets", .array([.string("a"), .integer(3)]))) }
        #expect(targets?.field == "targets[1]")
    }

    @Test func aDamagedPairOrPathIsNamedByItsPlace() throws {
        guard case .object(var pair) = Self.written.pairs[1].json else { return }
        pair.removeAll { $0.0 == "lift" }
        let lift = #expect(throws: InputError.self) {
            try Self.parse(Self.altered("pairs", .array([Self.written.pairs[0].json, .object(pair)])))
        }
        #expect(lift?.field == "pairs[1].lift")
        let count = #expect(throws: InputError.self) {
            try Self.parse(Self.altered("pairs", .array([.object([("target", .string("a")), ("history", .string("b")),
                                                                   ("lift", .number(2)), ("count", .number(2.5))])])))
        }
        #expect(count?.field == "pairs[0].count")
        var path = Self.written.paths[0]
        path.steps = ["Essential hypertension", "same as"]
        let steps = #expect(throws: InputError.self) { try Self.parse(Self.altered("paths", .array([path.json]))) }
        #expect(steps?.field == "paths[0].path")
        path = Self.written.paths[0]
        path.concepts = ["ICD10CM:I10"]
        let concepts = #expect(throws: InputError.self) { try Self.parse(Self.altered("paths", .array([path.json]))) }
        #expect(concepts?.field == "paths[0].concepts")
    }

    @Test func aStatusThatContradictsThePathsIsRefused() throws {
        let error = #expect(throws: InputError.self) { try Self.parse(Self.altered("status", .string("no_pairs"))) }
        #expect(error?.field == "status")
        #expect(error?.message.contains("1 paths") == true)
    }
}
