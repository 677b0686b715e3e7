import Foundation
import Testing
@testable import Lexicon
import TGSupport

@Suite struct OBOImportTests {
    static let ontology = #"""
    format-version: 1.2
    data-version: hp/releases/test
    ontology: hp.obo

    [Term]
    id: HP:0000001
    name: All
    xref: UMLS:C0444868

    [Term]
    id: HP:0012638
    name: Abnormal nervous system physiology
    is_a: HP:0000001 ! All

    [Term]
    id: HP:0001250
    name: Seizure
    alt_id: HP:0001275
    def: "An intermittent abnormality of \"nervous system\" physiology." [PMID:15816939]
    synonym: "Epileptic seizure" EXACT []
    synonym: "Epilepsy" RELATED layperson []
    xref: SNOMEDCT_US:91175000
    xref: UMLS:C0036572
    xref: UMLS:C0014544
    is_a: HP:0012638 ! Abnormal nervous system physiology {source="x"}
    relationship: part_of HP:0000001

    [Term]
    id: HP:0009999
    name: Old seizure term
    is_obsolete: true

    [Typedef]
    id: part_of
    name: part of
    """#

    @Test func termsSynonymsDefinitionsXrefsAndHierarchy() throws {
        let folder = try ScratchFolder()
        let path = try folder.write("hp.obo", Self.ontology)
        let store = try buildLexicon(LexiconSources(obo: [path]), in: folder)
        let counts = store.manifest.counts
        #expect(counts.concepts == 3)
        #expect(counts.terms == 5)
        #expect(counts.definitions == 1)
        // Two is_a links and one relationship, each in both directions.
        #expect(counts.relations == 6)
        #expect(store.manifest.sources.first?.name == "HPO hp/releases/test")
        #expect(store.manifest.sources.first?.counts["obsolete"] == 1)

        // The first UMLS xref is the concept id.
        let seizure = try #require(try store.lookup("epileptic seizure").first)
        #expect(seizure.cui == "C0036572")
        #expect(seizure.preferred == "Seizure")
        #expect(seizure.sources == ["HPO"])
        #expect(seizure.relationsOut == 2)
        // A term without a UMLS xref keeps its own id.
        #expect(try store.lookup("abnormal nervous system physiology").map(\.cui) == ["HP:0012638"])
        #expect(try store.lookup("old seizure term").isEmpty)
        #expect(try store.lookup("epilepsy").map(\.cui) == ["C0036572"])
    }

    @Test func mergesWithTheUMLSConceptThatCarriesTheTermsCode() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let path = try folder.write("hp.obo", Self.ontology)
        let store = try buildLexicon(LexiconSources(umls: umls, obo: [path]), in: folder)
        // UMLS files HP:0001250 under C0036572; the OBO term joins it and the
        // UMLS preferred name stays.
        let concept = try #require(try store.concept(cui: "C0036572"))
        #expect(concept.preferred == "Seizures")
        #expect(concept.sources == ["HPO", "SNOMEDCT_US"])
        #expect(try store.lookup("epileptic seizure").map(\.cui) == ["C0036572"])
        #expect(store.manifest.sources.map(\.kind) == ["umls", "obo"])
    }

    func parseError(_ text: String) throws -> InputError {
        let folder = try ScratchFolder()
        let path = try folder.write("bad.obo", text)
        return try expectBuildFailure(LexiconSources(obo: [path]), in: folder)
    }

    @Test func malformedStanzasAreErrorsWithLineAndTag() throws {
        var error = try parseError("[Term]\nid: X:1\nsynonym: \"unterminated EXACT []\n")
        #expect(error.line == 3)
        #expect(error.field == "synonym")
        #expect(error.message == "unterminated quoted string")

        error = try parseError("[Term]\nname: no id yet\n")
        #expect(error.line == 2)
        #expect(error.message == "tag before the stanza's id")

        error = try parseError("[Term]\nid: X:1\nname: a\n\n[Term\nid: X:2\n")
        #expect(error.line == 5)
        #expect(error.message.hasPrefix("malformed stanza header"))

        error = try parseError("[Term]\nid: X:1\nthis line has no colon\n")
        #expect(error.line == 3)

        error = try parseError("[Term]\nid: X:1\nname: a\n[Term]\nid: X:1\nname: b\n")
        #expect(error.line == 5)
        #expect(error.message.contains("duplicate term id X:1 (first defined at line 2)"))

        error = try parseError("[Term]\nid: X:1\nsynonym: \"a\" SIMILAR []\n")
        #expect(error.field == "synonym")

        error = try parseError("[Term]\n\n[Term]\nid: X:2\n")
        #expect(error.line == 1)
        #expect(error.field == "id")

        var bytes = Data("[Term]\nid: X:1\nname: caf".utf8)
        bytes.append(0xC3)
        bytes.append(Data("\n".utf8))
        let folder = try ScratchFolder()
        let path = try folder.write("utf.obo", bytes)
        #expect(throws: InputError(file: path, line: 3, message: "invalid UTF-8")) {
            _ = try buildLexicon(LexiconSources(obo: [path]), in: folder)
        }
    }

    @Test func missingFileIsReported() throws {
        let folder = try ScratchFolder()
        #expect(throws: InputError(file: folder.path + "/none.obo", message: "missing file")) {
            _ = try buildLexicon(LexiconSources(obo: [folder.path + "/none.obo"]), in: folder)
        }
    }
}
