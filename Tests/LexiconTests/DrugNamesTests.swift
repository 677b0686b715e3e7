import Foundation
import Testing
@testable import Lexicon
import TGSupport

/// The pickle reader reads plain data, shares what the memo shares, and
/// refuses anything that would make Python import or call code.
@Suite struct PickleReaderTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    /// `pickle.dumps(obj, protocol=4)` of a dictionary shaped like the drug
    /// dictionary, a list shared twice, and every scalar kind.
    static let protocol4 = bytes(
        "800495f7000000000000007d94288c19647275675f76617269616e745f746f5f63616e6f6e6963616c947d94288c0a73616c627574616d6f6c945d948c09"
            + "616c62757465726f6c946168055d946805618c0876656e746f6c696e945d946805618c04626f7468945d942868058c056f746865729465758c1c6472"
            + "75675f76617269616e745f746f5f76617269616e745f64617461947d942868077d948c0869735f6272616e6494887368037d94680f8973758c067368"
            + "61726564945d94285d94288c0178948c017994656813658c016e945d94284b014afeffffff4d2c014a701101004a90eefeff4740040000000000004e"
            + "88894b018c017494869428919465752e")

    @Test func readsPlainDataAsPythonWroteIt() throws {
        let value = try PickleReader(file: "t.pkl").read(Self.protocol4)
        #expect(value["drug_variant_to_canonical"]?["ventolin"] == .array([.string("albuterol")]))
        #expect(value["drug_variant_to_canonical"]?["both"] == .array([.string("albuterol"), .string("other")]))
        #expect(value["drug_variant_to_variant_data"]?["ventolin"]?["is_brand"] == .bool(true))
        // The list stored once and fetched from the memo is filled in both places.
        #expect(value["shared"] == .array([.array([.string("x"), .string("y")]), .array([.string("x"), .string("y")])]))
        #expect(value["n"] == .array([.integer(1), .integer(-2), .integer(300), .integer(70000), .integer(-70000), .number(2.5),
                                      .null, .bool(true), .bool(false), .array([.integer(1), .string("t")]), .array([])]))
        // Protocol 2 (BINUNICODE, BINPUT): {'a': [1, 2]}.
        #expect(try PickleReader(file: "t.pkl").read(Self.bytes("80027d710058010000006171015d7102284b014b0265732e"))
                == .object([("a", .array([.integer(1), .integer(2)]))]))
    }

    @Test func codeAndDamageAreRefusedWithTheirOffset() throws {
        // An object whose __reduce__ calls os.system("true").
        let malicious = Self.bytes("8004951f000000000000008c05706f736978948c0673797374656d9493948c047472756594859452942e")
        let refused = #expect(throws: InputError.self) { try PickleReader(file: "evil.pkl").read(malicious) }
        #expect(refused?.message.contains("0x93") == true && refused?.field == "byte 28" && refused?.file == "evil.pkl",
                "\(String(describing: refused))")
        // Cut anywhere: an error, never a crash or a partial value.
        for length in stride(from: 0, to: Self.protocol4.count - 1, by: 7) {
            #expect(throws: InputError.self) { try PickleReader(file: "cut.pkl").read(Array(Self.protocol4.prefix(length))) }
        }
        // A memo reference never stored, a dict key that is not a string.
        #expect(throws: InputError.self) { try PickleReader(file: "m.pkl").read(Self.bytes("8004680a2e")) }
        #expect(throws: InputError.self) { try PickleReader(file: "k.pkl").read(Self.bytes("80047d4b014b02732e")) }
    }
}

/// Other names of drugs join the drug concepts the lexicon has.
@Suite struct DrugNamesImportTests {
    /// {'drug_variant_to_canonical': {'metformin': ['metformin'], 'glucophage': ['metformin'],
    ///   'dimethylbiguanide': ['metformin'], 'polydipsia': ['metformin'], 'mixtard': ['metformin', 'insulin']},
    ///  'drug_variant_to_variant_data': {'glucophage': {'is_brand': True}, 'metformin': {'is_brand': False}}}
    static let dictionary = PickleReaderTests.bytes(
        "800495c9000000000000007d94288c19647275675f76617269616e745f746f5f63616e6f6e6963616c947d94288c096d6574666f726d696e945d946803"
            + "618c0a676c75636f7068616765945d946803618c1164696d657468796c62696775616e696465945d946803618c0a706f6c79646970736961945d9468"
            + "03618c076d697874617264945d942868038c07696e73756c696e9465758c1c647275675f76617269616e745f746f5f76617269616e745f6461746194"
            + "7d942868057d948c0869735f6272616e6494887368037d946811897375752e")

    static let module = """
        {"name": "Diabetes", "states": {
          "Onset": {"type": "ConditionOnset", "assign_to_attribute": "diabetes",
                    "codes": [{"system": "SNOMED-CT", "code": "44054006", "display": "Diabetes mellitus type 2 (disorder)"}]},
          "Metformin": {"type": "MedicationOrder", "reason": "diabetes",
                        "codes": [{"system": "RxNorm", "code": 860975, "display": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"}]},
          "Thirst": {"type": "Symptom", "symptom": "Polydipsia"}
        }}
        """

    @Test func namesJoinTheDrugTheyName() throws {
        let folder = NSTemporaryDirectory() + "tg-drugnames-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/modules", withIntermediateDirectories: true)
        try Self.module.write(toFile: folder + "/modules/diabetes.json", atomically: true, encoding: .utf8)
        try Data(Self.dictionary).write(to: URL(fileURLWithPath: folder + "/drugs.pkl"))
        var options = LexiconBuildOptions()
        options.normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
        let manifest = try LexiconBuilder(sources: LexiconSources(synthea: [folder + "/modules"], drugNames: [folder + "/drugs.pkl"]),
                                          options: options).build(into: folder + "/lex")
        let store = try LexiconStore(directory: folder + "/lex")
        for name in ["glucophage", "dimethylbiguanide", "metformin"] {
            #expect(try store.lookup(name).map(\.cui) == ["INGREDIENT:metformin"], "\(name)")
        }
        // A name of another concept stays that concept's; a name of two drugs joins neither.
        #expect(try store.lookup("polydipsia").map(\.cui) == ["SYNTHEA:symptom:polydipsia"])
        #expect(try store.lookup("mixtard").isEmpty)
        let counts = try #require(manifest.sources.first { $0.kind == "drug-names" }?.counts)
        #expect(counts["drugsJoined"] == 1 && counts["namesAdded"] == 2 && counts["namesOfOtherConcepts"] == 1
                && counts["ambiguousNames"] == 1, "\(counts)")
    }

    @Test func aFileThatIsNotTheDictionaryIsNamed() throws {
        let folder = NSTemporaryDirectory() + "tg-drugnames-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // {'a': [1, 2]}: a pickle, but not the dictionary.
        try Data(PickleReaderTests.bytes("80027d710058010000006171015d7102284b014b0265732e")).write(to: URL(fileURLWithPath: folder + "/x.pkl"))
        let error = #expect(throws: InputError.self) { try DrugNamesImporter(path: folder + "/x.pkl") }
        #expect(error?.field == "drug_variant_to_canonical" && error?.file == folder + "/x.pkl")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: OpenVocabularies.drugNames), "drug-names.pkl not fetched"))
    func theRealDictionaryReads() throws {
        let importer = try DrugNamesImporter(path: OpenVocabularies.drugNames)
        #expect(importer.counts["names"]! > 100_000 && importer.counts["drugs"]! > 19_000, "\(importer.counts)")
    }
}
