import Foundation
import Testing
@testable import Lexicon
import TGSupport

/// A scratch folder removed when the test ends.
final class ScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "thinkgraph-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: file))
        return file
    }

    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// A small UMLS release in real RRF layout, written row by row.
enum RRFFixture {
    /// MRCONSO row from the fields that matter; the rest filled plausibly.
    static func conso(_ cui: String, _ str: String, lat: String = "ENG", ts: String = "P", stt: String = "PF",
                      ispref: String = "Y", sab: String = "MSH", tty: String = "MH", code: String = "D000001",
                      suppress: String = "N", aui: String = "A0000001") -> String {
        [cui, lat, ts, "L0000001", stt, "S0000001", ispref, aui, "", "", "", sab, tty, code, str, "0", suppress, "256"]
            .joined(separator: "|") + "|"
    }

    static func sty(_ cui: String, _ tui: String, _ name: String) -> String {
        [cui, tui, "B2.2.1.2.1", name, "AT0000001", "256"].joined(separator: "|") + "|"
    }

    static func def(_ cui: String, _ text: String, sab: String = "MSH", suppress: String = "N") -> String {
        [cui, "A0000001", "AT0000002", "", sab, text, suppress, "256"].joined(separator: "|") + "|"
    }

    static func rel(_ cui1: String, _ rel: String, _ cui2: String, rela: String = "", sab: String = "MSH",
                    suppress: String = "N") -> String {
        [cui1, "A1", "CUI", rel, cui2, "A2", "CUI", rela, "R0000001", "", sab, sab, "", "Y", suppress, ""]
            .joined(separator: "|") + "|"
    }

    /// A release with seizure / epilepsy / anticonvulsant concepts, rows that
    /// the default filters drop, and relations in both directions.
    static func write(into folder: ScratchFolder, subfolder: String = "umls") throws -> String {
        let conso = [
            conso("C0014544", "Epilepsy"),
            conso("C0014544", "Seizure disorder", ts: "S", stt: "PF", ispref: "Y", tty: "ET", aui: "A0000002"),
            conso("C0014544", "Epilepsie", lat: "FRE", aui: "A0000003"),
            conso("C0036572", "Seizures", sab: "SNOMEDCT_US", tty: "PT", code: "91175000"),
            conso("C0036572", "Seizure", ts: "S", ispref: "N", sab: "HPO", tty: "PT", code: "HP:0001250"),
            conso("C0036572", "Convulsion, obsolete", sab: "MSH", suppress: "O"),
            conso("C0003299", "Anticonvulsants"),
            conso("C0003299", "Antiepileptic  drugs ", ts: "S", ispref: "N", tty: "ET"),
            conso("C0008049", "Chickenpox", sab: "ICD10CM", tty: "PT", code: "B01"),
            conso("C0000001", "   ", aui: "A0000009"),
        ]
        let sty = [
            sty("C0014544", "T047", "Disease or Syndrome"),
            sty("C0036572", "T184", "Sign or Symptom"),
            sty("C0003299", "T121", "Pharmacologic Substance"),
            sty("C9999999", "T047", "Disease or Syndrome"),
        ]
        let def = [
            def("C0014544", "A disorder characterized by recurrent seizures."),
            def("C0036572", "Suppressed definition.", suppress: "E"),
        ]
        let rel = [
            rel("C0014544", "RO", "C0003299", rela: "may_be_treated_by"),
            rel("C0003299", "RO", "C0014544", rela: "may_treat"),
            rel("C0036572", "PAR", "C0014544", rela: "inverse_isa"),
            rel("C0014544", "CHD", "C0036572", rela: "isa"),
            rel("C0014544", "RO", "C9999999", rela: "unknown_target"),
            rel("C0014544", "RO", "C0036572", rela: "suppressed", suppress: "O"),
        ]
        try folder.write("\(subfolder)/MRCONSO.RRF", conso.joined(separator: "\n") + "\n")
        try folder.write("\(subfolder)/MRSTY.RRF", sty.joined(separator: "\n") + "\n")
        try folder.write("\(subfolder)/MRDEF.RRF", def.joined(separator: "\n") + "\n")
        try folder.write("\(subfolder)/MRREL.RRF", rel.joined(separator: "\n") + "\n")
        return folder.path + "/" + subfolder
    }
}

/// Where the set-up put the open vocabularies (see Lexicons/default.sh).
enum OpenVocabularies {
    static var folder: String {
        if let override = ProcessInfo.processInfo.environment["THINKGRAPH_VOCABULARIES"] { return override }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.appendingPathComponent("Lexicons/downloads").path
    }

    static var hpo: String { folder + "/hp.obo" }
    static var icd10cmXML: String { folder + "/icd10cm-tabular.xml" }
    static var icd10cmCodeList: String { folder + "/icd10cm-code-list.txt" }
    static var drugNames: String { folder + "/drug-names.pkl" }
    static var syntheaModules: String { folder + "/synthea-modules" }

    static var available: Bool {
        [hpo, icd10cmXML, icd10cmCodeList].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }
}

func buildLexicon(_ sources: LexiconSources, in folder: ScratchFolder, name: String = "lexicon",
                  configure: (inout LexiconBuildOptions) -> Void = { _ in }) throws -> LexiconStore {
    var options = LexiconBuildOptions()
    configure(&options)
    let destination = folder.path + "/" + name
    try LexiconBuilder(sources: sources, options: options).build(into: destination)
    return try LexiconStore(directory: destination)
}

/// Builds a lexicon that must fail on bad input; checks that nothing but
/// the inputs is left in the folder (no lexicon, no staging folder) and
/// returns the error.
func expectBuildFailure(_ sources: LexiconSources, in folder: ScratchFolder) throws -> InputError {
    let before = folder.entries
    var caught: InputError?
    do {
        _ = try buildLexicon(sources, in: folder)
    } catch let error as InputError {
        caught = error
    }
    #expect(folder.entries == before)
    return try #require(caught)
}
