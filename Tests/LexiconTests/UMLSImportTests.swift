import Foundation
import SQLiteDB
import Testing
@testable import Lexicon
import TGSupport

@Suite struct UMLSImportTests {
    @Test func buildsConceptsTermsTypesDefinitionsAndRelationsWithDefaultFilters() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let store = try buildLexicon(LexiconSources(umls: umls), in: folder)
        let counts = store.manifest.counts
        // The French row, the suppressed row and the blank string are dropped.
        #expect(counts.concepts == 4)
        #expect(counts.terms == 7)
        #expect(counts.semanticTypes == 3)
        #expect(counts.definitions == 1)
        // Unknown target and suppressed relation dropped.
        #expect(counts.relations == 4)

        let umlsCounts = try #require(store.manifest.sources.first?.counts)
        #expect(umlsCounts["MRCONSO.rows"] == 10)
        #expect(umlsCounts["MRCONSO.otherLanguage"] == 1)
        #expect(umlsCounts["MRCONSO.suppressed"] == 1)
        #expect(umlsCounts["MRCONSO.emptyString"] == 1)
        #expect(umlsCounts["MRREL.unknownConcept"] == 1)
        #expect(umlsCounts["MRREL.filtered"] == 1)

        let epilepsy = try #require(try store.lookup("EPILEPSY").first)
        #expect(epilepsy.cui == "C0014544")
        #expect(epilepsy.preferred == "Epilepsy")
        #expect(epilepsy.semanticTypes == [.init(tui: "T047", name: "Disease or Syndrome")])
        #expect(epilepsy.relationsOut == 2)
        #expect(epilepsy.relationsIn == 2)

        // Whitespace is folded before lookup; the original text is reported.
        let drugs = try store.lookup("antiepileptic drugs")
        #expect(drugs.map(\.cui) == ["C0003299"])
        #expect(drugs.first?.matchedTerms == ["Antiepileptic  drugs "])
        #expect(drugs.first?.preferred == "Anticonvulsants")

        let seizure = try #require(try store.lookup("seizure").first)
        #expect(seizure.sources == ["HPO", "SNOMEDCT_US"])
        #expect(seizure.preferred == "Seizures")

        // The manifest records every file with size and checksum.
        let files = store.manifest.sources[0].files
        #expect(files.map { ($0.path as NSString).lastPathComponent }
            == ["MRCONSO.RRF", "MRSTY.RRF", "MRDEF.RRF", "MRREL.RRF"])
        #expect(try files[0].sha256 == sha256OfFile(atPath: umls + "/MRCONSO.RRF"))
    }

    @Test func sourceLanguageAndSuppressionOptions() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let store = try buildLexicon(LexiconSources(umls: umls), in: folder) { options in
            options.languages = ["ENG", "FRE"]
            options.sourceVocabularies = ["MSH"]
            options.keepSuppressible = true
        }
        #expect(try store.lookup("epilepsie").map(\.cui) == ["C0014544"])
        #expect(try store.lookup("convulsion, obsolete").map(\.cui) == ["C0036572"])
        #expect(try store.lookup("seizures").isEmpty)
        // The suppressed relation is kept now; only the one to an unknown concept is dropped.
        #expect(store.manifest.counts.relations == 5)
        #expect(store.manifest.options.sourceVocabularies == ["MSH"])
    }

    @Test func acceptsTheMetaSubfolderOfARelease() throws {
        let folder = try ScratchFolder()
        _ = try RRFFixture.write(into: folder, subfolder: "2025AB/META")
        let store = try buildLexicon(LexiconSources(umls: folder.path + "/2025AB"), in: folder)
        #expect(store.manifest.counts.concepts == 4)
    }

    @Test func transliterationIsRecordedAndAppliedAtLookup() throws {
        let folder = try ScratchFolder()
        try folder.write("umls/MRCONSO.RRF", RRFFixture.conso("C0036202", "Sjögren's syndrome") + "\n")
        let store = try buildLexicon(LexiconSources(umls: folder.path + "/umls"), in: folder) {
            $0.normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
        }
        #expect(store.manifest.normalization.asciiTransliteration)
        #expect(try store.lookup("SJOGREN'S SYNDROME").map(\.cui) == ["C0036202"])
        #expect(try store.lookup("Sjögren’s syndrome").map(\.cui) == ["C0036202"])
    }
}

@Suite struct UMLSBadInputTests {
    /// Builds from a release whose MRCONSO is `conso`, expecting a failure.
    func failure(conso: Data, file: String = "MRCONSO.RRF") throws -> (InputError, ScratchFolder) {
        let folder = try ScratchFolder()
        _ = try RRFFixture.write(into: folder)
        try folder.write("umls/" + file, conso)
        return (try expectBuildFailure(LexiconSources(umls: folder.path + "/umls"), in: folder), folder)
    }

    @Test func shortRowNamesFileAndLine() throws {
        let rows = RRFFixture.conso("C1", "Fine") + "\nC2|ENG|P|L1|PF|S1|Y|A1|\n"
        let (error, folder) = try failure(conso: Data(rows.utf8))
        #expect(error.file == folder.path + "/umls/MRCONSO.RRF")
        #expect(error.line == 2)
        #expect(error.description.contains("expected 18 fields, found 8"))
    }

    @Test func missingTrailingPipeIsReported() throws {
        let row = String(RRFFixture.conso("C1", "Fine").dropLast())
        let (error, _) = try failure(conso: Data((row + "\n").utf8))
        #expect(error.line == 1)
        #expect(error.message.contains("trailing '|'"))
    }

    @Test func invalidUTF8NamesTheField() throws {
        var data = Data((RRFFixture.conso("C1", "Fine") + "\n").utf8)
        var bad = Data(RRFFixture.conso("C2", "Bad#").utf8)
        bad[bad.firstIndex(of: UInt8(ascii: "#"))!] = 0xFF
        data.append(bad)
        let (error, _) = try failure(conso: data)
        #expect(error.line == 2)
        #expect(error.field == "STR (15)")
        #expect(error.description.hasSuffix("MRCONSO.RRF:2: field STR (15): invalid UTF-8"))
    }

    @Test func wrongColumnCountInRelationsIsReportedToo() throws {
        let (error, _) = try failure(conso: Data("C1|RO|C2|\n".utf8), file: "MRREL.RRF")
        #expect(error.file.hasSuffix("MRREL.RRF"))
        #expect(error.message.contains("expected 16 fields, found 3"))
    }

    @Test func missingMRCONSOAndMissingFolder() throws {
        let folder = try ScratchFolder()
        try folder.write("umls/MRSTY.RRF", "")
        #expect(throws: InputError.self) {
            _ = try buildLexicon(LexiconSources(umls: folder.path + "/umls"), in: folder)
        }
        #expect(throws: InputError.self) {
            _ = try buildLexicon(LexiconSources(umls: folder.path + "/absent"), in: folder)
        }
        #expect(folder.entries == ["umls"])
    }

    @Test func existingLexiconIsKeptUnlessReplacing() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        _ = try buildLexicon(LexiconSources(umls: umls), in: folder)
        #expect(throws: UsageError.self) { _ = try buildLexicon(LexiconSources(umls: umls), in: folder) }
        // A failing rebuild with replacement leaves the old lexicon intact.
        try folder.write("umls/MRREL.RRF", "broken\n")
        #expect(throws: InputError.self) {
            _ = try buildLexicon(LexiconSources(umls: umls), in: folder) { $0.replaceExisting = true }
        }
        #expect(try LexiconStore(directory: folder.path + "/lexicon").manifest.counts.concepts == 4)
        #expect(folder.entries == ["lexicon", "umls"])
    }

    @Test func damagedLexiconIsRefusedAtOpen() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        _ = try buildLexicon(LexiconSources(umls: umls), in: folder)
        let database = folder.path + "/lexicon/lexicon.sqlite"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: database))
        try handle.truncate(atOffset: 4096)
        try handle.close()
        #expect(throws: InputError.self) { _ = try LexiconStore(directory: folder.path + "/lexicon") }
        #expect(throws: InputError.self) { _ = try LexiconStore(directory: folder.path + "/umls") }
    }
}

@Suite struct ApproximateIndexTests {
    @Test func theLexiconCarriesASimStringIndexOverItsNormalisedStrings() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let store = try buildLexicon(LexiconSources(umls: umls), in: folder)
        let record = store.manifest.approximateIndex
        #expect(record.strings == store.manifest.counts.strings)
        #expect(record.ngram == 3 && record.unicode && !record.marks)
        let index = try store.openApproximateIndex()
        var normalized: [String] = []
        try store.forEachString { id, text in
            #expect(index.string(of: Int(id) - 1) == text)
            normalized.append(text)
        }
        #expect(normalized.count == index.count)
        let hits = try index.search("seizure", measure: .jaccard, threshold: 0.7).map { index.string(of: $0.id) }
        #expect(hits.contains("seizure"))
        #expect(hits.contains("seizures"))
    }

    @Test func aDamagedIndexIsRefusedWithTheFileNamed() throws {
        let folder = try ScratchFolder()
        let umls = try RRFFixture.write(into: folder)
        let store = try buildLexicon(LexiconSources(umls: umls), in: folder)
        let path = folder.path + "/lexicon/strings.simstring"
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var data = original
        data[data.count - 3] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: InputError(file: path, message: "corrupted index (body checksum mismatch)")) {
            _ = try store.openApproximateIndex(verify: true)
        }
        data = original
        data[30] ^= 0xFF
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: InputError(file: path, message: "corrupted index (header checksum mismatch)")) {
            _ = try store.openApproximateIndex()
        }
    }
}

@Suite struct RRFExportTests {
    @Test func exportedRRFRebuildsTheSameConceptsAndStrings() throws {
        let folder = try ScratchFolder()
        let obo = try folder.write("hp.obo", OBOImportTests.ontology)
        let original = try buildLexicon(LexiconSources(obo: [obo]), in: folder)
        let (conso, sty) = try RRFExporter().export(original, to: folder.path + "/rrf")
        #expect(conso == original.manifest.counts.terms)
        #expect(sty == original.manifest.counts.concepts)
        let rebuilt = try buildLexicon(LexiconSources(umls: folder.path + "/rrf"), in: folder, name: "rebuilt")
        #expect(rebuilt.manifest.counts.concepts == original.manifest.counts.concepts)
        #expect(rebuilt.manifest.counts.strings == original.manifest.counts.strings)
        var originalStrings: [String] = [], rebuiltStrings: [String] = []
        try original.forEachString { _, text in originalStrings.append(text) }
        try rebuilt.forEachString { _, text in rebuiltStrings.append(text) }
        #expect(Set(originalStrings) == Set(rebuiltStrings))
        let seizure = try #require(try rebuilt.lookup("epileptic seizure").first)
        #expect(seizure.cui == "C0036572")
        #expect(seizure.preferred == "Seizure")
        #expect(seizure.semanticTypes.map(\.tui) == ["T047"])
    }
}
