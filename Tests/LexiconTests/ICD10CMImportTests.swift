import Foundation
import Testing
@testable import Lexicon
import TGSupport

@Suite struct ICD10CMImportTests {
    static let tabular = """
    <?xml version="1.0" encoding="utf-8"?>
    <ICD10CM.tabular>
      <version>2026</version>
      <introduction><introSection type="title"><title>Test</title></introSection></introduction>
      <chapter>
        <name>1</name>
        <desc>Certain infectious and parasitic diseases (A00-B99)</desc>
        <sectionIndex><sectionRef first="A00" last="A09" id="A00-A09">Intestinal</sectionRef></sectionIndex>
        <section id="A00-A09">
          <desc>Intestinal infectious diseases (A00-A09)</desc>
          <diag>
            <name>A00</name>
            <desc>Cholera</desc>
            <diag>
              <name>A00.0</name>
              <desc>Cholera due to Vibrio cholerae 01, biovar cholerae</desc>
              <inclusionTerm><note>Classical cholera</note></inclusionTerm>
            </diag>
            <diag>
              <name>A00.9</name>
              <desc>Cholera, unspecified</desc>
              <excludes1><note>typhoid (A01.0-A01.1) and other (A00.0)</note></excludes1>
            </diag>
          </diag>
          <diag>
            <name>A01</name>
            <desc>Typhoid fever</desc>
            <excludes2><note>all intestinal infections (A00-A09)</note></excludes2>
            <diag><name>A01.0</name><desc>Typhoid fever, unspecified</desc></diag>
            <diag><name>A01.1</name><desc>Paratyphoid fever A</desc></diag>
          </diag>
        </section>
        <section id="S00-S09">
          <desc>Injuries to the head (S00-S09)</desc>
          <diag>
            <name>S02</name>
            <desc>Fracture of skull and facial bones</desc>
            <useAdditionalCode><note>code for intracranial injury (S06.-) if unknown (Z99.9)</note></useAdditionalCode>
            <sevenChrDef>
              <extension char="A">initial encounter for closed fracture</extension>
              <extension char="S">sequela</extension>
            </sevenChrDef>
            <diag><name>S02.0</name><desc>Fracture of vault of skull</desc></diag>
            <diag>
              <name>S02.1</name>
              <desc>Fracture of base of skull</desc>
              <diag><name>S02.101</name><desc>Fracture of base of skull, right side</desc></diag>
            </diag>
          </diag>
        </section>
      </chapter>
    </ICD10CM.tabular>
    """

    @Test func hierarchyInclusionTermsSeventhCharactersAndNotes() throws {
        let folder = try ScratchFolder()
        let path = try folder.write("icd.xml", Self.tabular)
        let store = try buildLexicon(LexiconSources(icd10cm: [path]), in: folder)
        let counts = try #require(store.manifest.sources.first?.counts)
        #expect(counts["chapters"] == 1)
        #expect(counts["sections"] == 2)
        #expect(counts["codes"] == 10)
        // S02.0 and S02.101 are the leaves under S02's seventh characters.
        #expect(counts["seventhCharacterCodes"] == 4)
        #expect(store.manifest.sources.first?.name == "ICD-10-CM 2026")

        let codes = try store.codes(source: "ICD10CM")
        #expect(codes.isSuperset(of: ["1", "A00-A09", "A00", "A00.0", "S02.0XXA", "S02.0XXS", "S02.101A", "S02.101S"]))
        #expect(!codes.contains("S02.1A"))

        let expanded = try #require(try store.concept(cui: "ICD10CM:S02.0XXA"))
        #expect(expanded.preferred == "Fracture of vault of skull, initial encounter for closed fracture")
        #expect(try store.lookup("classical cholera").map(\.cui) == ["ICD10CM:A00.0"])
        // Range suffixes are not part of chapter and section names.
        #expect(try store.lookup("intestinal infectious diseases").map(\.cui) == ["ICD10CM:A00-A09"])
        #expect(try store.lookup("certain infectious and parasitic diseases").map(\.cui) == ["ICD10CM:chapter-1"])

        // Notes: A00.9 excludes A01.0, A01.1 (range) and A00.0; A01 excludes2
        // the section A00-A09; S02 needs an additional code S06 (unknown here:
        // unresolved) and Z99.9 (unknown).
        #expect(counts["noteLinks"] == 4)
        #expect(counts["noteReferencesUnresolved"] == 2)
        let a009 = try #require(try store.concept(cui: "ICD10CM:A00.9"))
        // parent (1) + three excludes1, each one row out and one row in.
        #expect(a009.relationsOut == 4)
        #expect(a009.relationsIn == 4)
    }

    @Test func codeReferencesAreFoundInNoteText() {
        let references = ICD10CMCodeResolver.references(in: "sepsis (T81.44-) and (O03.37, O04.87), neonatal (P36.0-P36.1), P35-P39; not A1 or HbA1C")
        #expect(references.map(\.text) == ["T81.44-", "O03.37", "O04.87", "P36.0-P36.1", "P35-P39"])
        #expect(ICD10CMImporter.appendSeventhCharacter("A", to: "S02.0") == "S02.0XXA")
        #expect(ICD10CMImporter.appendSeventhCharacter("D", to: "T36.0X1") == "T36.0X1D")
        #expect(ICD10CMImporter.appendSeventhCharacter("A", to: "S72.001") == "S72.001A")
    }

    func parseError(_ xml: String) throws -> InputError {
        let folder = try ScratchFolder()
        let path = try folder.write("bad.xml", xml)
        return try expectBuildFailure(LexiconSources(icd10cm: [path]), in: folder)
    }

    @Test func brokenXMLIsAnErrorWithItsLine() throws {
        let broken = Self.tabular.replacingOccurrences(of: "<desc>Cholera</desc>", with: "<desc>Cholera</dsc>")
        let error = try parseError(broken)
        #expect(error.line == 13)
        #expect(error.message.hasPrefix("malformed XML"))
    }

    @Test func structuralProblemsAreNamed() throws {
        var error = try parseError(Self.tabular.replacingOccurrences(of: "<name>A00.9</name>", with: ""))
        #expect(error.field == "diag.name")
        error = try parseError(Self.tabular.replacingOccurrences(of: "<desc>Cholera, unspecified</desc>", with: ""))
        #expect(error.field == "diag.desc")
        #expect(error.message == "A00.9 has no <desc>")
        error = try parseError("<?xml version=\"1.0\"?><html><body/></html>")
        #expect(error.message.contains("not an ICD-10-CM tabular file"))
        error = try parseError(Self.tabular.replacingOccurrences(of: "<extension char=\"S\">", with: "<extension>"))
        #expect(error.field == "extension.char")
        error = try parseError("")
        #expect(error.message.contains("not an ICD-10-CM tabular file") || error.message.hasPrefix("malformed XML"))
    }

    @Test func mergesWithUMLSConceptsCarryingTheCode() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let xml = Self.tabular.replacingOccurrences(of: "<name>A00.9</name>", with: "<name>B01</name>")
        let path = try folder.write("icd.xml", xml)
        let store = try buildLexicon(LexiconSources(umls: umls, icd10cm: [path]), in: folder)
        #expect(try store.lookup("cholera, unspecified").map(\.cui) == ["C0008049"])
        #expect(try store.concept(cui: "C0008049")?.sources == ["ICD10CM"])
    }
}

@Suite struct SeventhCharacterExclusionTests {
    @Test func readsTheS06Rule() {
        let rule = SeventhCharacterExclusion(notes: [
            "7th characters D and S do not apply to codes in category S06 with 6th character 7 - death due to brain injury prior to regaining consciousness, or 8 - death due to other cause prior to regaining consciousness.",
        ])
        #expect(rule.characters == ["D", "S"])
        #expect(rule.sixthCharacters == ["7", "8"])
        #expect(rule.excludes("D", from: "S06.1X7"))
        #expect(rule.excludes("S", from: "S06.308"))
        #expect(!rule.excludes("A", from: "S06.1X7"))
        #expect(!rule.excludes("D", from: "S06.1X6"))
        #expect(!rule.excludes("D", from: "S06.1"))
        #expect(SeventhCharacterExclusion(notes: ["One of the following 7th characters is to be assigned"]).characters.isEmpty)
    }
}
