import ArgumentParser
import Foundation
import Lexicon

struct LexiconCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lexicon",
        abstract: "Build and query lexicons (UMLS RRF, OBO ontologies, ICD-10-CM).",
        subcommands: [Build.self, Info.self, Lookup.self, Strings.self, ExportRRF.self, Reindex.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a lexicon folder from any mix of UMLS, OBO and ICD-10-CM sources.")

        @Option(help: "Folder to create (lexicon.sqlite + manifest.json).")
        var out: String

        @Option(help: "UMLS release folder (or its META subfolder) with MRCONSO.RRF; MRSTY, MRDEF, MRREL when present.")
        var umls: String?

        @Option(help: "OBO ontology file, e.g. HPO's hp.obo (repeatable).")
        var obo: [String] = []

        @Option(help: "ICD-10-CM tabular XML file (repeatable).")
        var icd10cm: [String] = []

        @Option(help: "Folder of Synthea disease modules (*.json): condition-drug, -procedure, -test and -symptom relations (repeatable).")
        var synthea: [String] = []

        @Option(name: .customLong("drug-names"),
                help: "The drug-named-entity-recognition dictionary (drug_ner_dictionary.pkl): other names (INN, USAN, brands) of the drugs the other sources have (repeatable).")
        var drugNames: [String] = []

        @Option(name: .customLong("hpo-annotations"),
                help: "HPO's disease annotations (phenotype.hpoa): disease has_phenotype relations between the diseases the other sources have (OMIM / Orphanet xrefs) and HPO terms; occasional phenotypes left out (repeatable).")
        var hpoAnnotations: [String] = []

        @Option(help: "UMLS languages to keep, comma-separated.")
        var lang = "ENG"

        @Option(help: "UMLS source vocabularies (SAB) to keep, comma-separated; all when omitted.")
        var sab: String?

        @Flag(help: "Keep UMLS rows marked suppressible (SUPPRESS O, E or Y); dropped by default.")
        var keepSuppressible = false

        @Flag(inversion: .prefixedNo, help: "Lowercase strings before indexing.")
        var lowercase = true

        @Flag(help: "Transliterate strings to ASCII (é→e, ß→ss, β→beta).")
        var ascii = false

        @Flag(help: "Replace the folder if it already exists.")
        var force = false

        @OptionGroup var output: OutputOptions

        func run() throws {
            var options = LexiconBuildOptions()
            options.languages = commaList(lang)
            options.sourceVocabularies = sab.map(commaList)
            options.keepSuppressible = keepSuppressible
            options.normalizer = TermNormalizer(lowercase: lowercase, asciiTransliteration: ascii)
            options.replaceExisting = force
            let builder = LexiconBuilder(
                sources: LexiconSources(umls: umls, obo: obo, icd10cm: icd10cm, synthea: synthea, drugNames: drugNames,
                                        hpoAnnotations: hpoAnnotations), options: options,
                progress: output.progressReporter(label: "lexicon"))
            let manifest = try builder.build(into: out)
            print("built \(out): \(manifest.counts.concepts) concepts, \(manifest.counts.strings) strings, \(manifest.counts.relations) relations"
                + (manifest.counts.longTermsSkipped.map { ", \($0) terms over 4096 bytes left out" } ?? ""))
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what a lexicon holds.")

        @Argument(help: "Lexicon folder.")
        var directory: String

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        func run() throws {
            let store = try LexiconStore(directory: directory)
            let manifest = store.manifest
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
                return
            }
            let counts = manifest.counts
            print("lexicon \(directory) (format \(manifest.formatVersion), \(manifest.tool), \(manifest.createdAt))")
            print("normalisation: lowercase=\(manifest.normalization.lowercase) ascii=\(manifest.normalization.asciiTransliteration)")
            print("concepts        \(counts.concepts)")
            print("strings         \(counts.strings)")
            print("terms           \(counts.terms)")
            print("semantic types  \(counts.semanticTypes)")
            print("definitions     \(counts.definitions)")
            print("relations       \(counts.relations) (\(counts.relationTypes) types)")
            print("xrefs           \(counts.xrefs)")
            let index = manifest.approximateIndex
            print("simstring index \(index.file): \(index.strings) strings, \(index.ngram)-grams, \(index.unicode ? "unicode" : "bytes")\(index.marks ? ", marks" : ""), \(index.bytes) bytes")
            print("sources:")
            for source in manifest.sources {
                print("  \(source.kind) \(source.name)")
                for file in source.files { print("    \(file.path) (\(file.bytes) bytes, sha256 \(file.sha256 ?? "-"))") }
            }
            print("terms per source:")
            for (source, terms) in try store.termsPerSource() { print("  \(source.padding(toLength: 14, withPad: " ", startingAt: 0)) \(terms)") }
            print("relations per source and label (each statement once):")
            for (source, rela, count) in try store.relationsPerSource() {
                print("  \(source.padding(toLength: 10, withPad: " ", startingAt: 0)) \(rela.isEmpty ? "-" : rela)  \(count)")
            }
            print("most frequent relations:")
            for (rel, rela, count) in try store.relationsPerType(limit: 10) {
                print("  \(rel)/\(rela.isEmpty ? "-" : rela)  \(count)")
            }
        }
    }

    struct Lookup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the concepts whose normalised string equals a term.")

        @Argument(help: "Lexicon folder.")
        var directory: String

        @Argument(help: "The term to look up.")
        var term: String

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let store = try LexiconStore(directory: directory)
            let concepts = try store.lookup(term)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(concepts), as: UTF8.self))
                return
            }
            guard !concepts.isEmpty else {
                print("no concept for \"\(store.normalizer.normalize(term))\"")
                throw ExitCode(1)
            }
            for concept in concepts {
                print("\(concept.cui)\t\(concept.preferred)")
                let types = concept.semanticTypes.map { "\($0.tui) \($0.name)" }.joined(separator: "; ")
                print("  semantic types: \(types.isEmpty ? "-" : types)")
                print("  sources: \(concept.sources.joined(separator: ", "))")
                print("  matched terms: \(concept.matchedTerms.joined(separator: " | "))")
                print("  relations: \(concept.relationsOut) out, \(concept.relationsIn) in")
            }
        }
    }

    struct ExportRRF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-rrf",
            abstract: "Write the lexicon as UMLS RRF (MRCONSO.RRF, MRSTY.RRF), e.g. to install QuickUMLS from the same strings.")

        @Argument(help: "Lexicon folder.")
        var directory: String

        @Option(help: "Folder to write MRCONSO.RRF and MRSTY.RRF into.")
        var out: String

        @Option(help: "Semantic type given to concepts that have none ('none' to leave them out of MRSTY).")
        var defaultSemtype = "T047"

        func run() throws {
            let store = try LexiconStore(directory: directory)
            var exporter = RRFExporter()
            exporter.defaultSemanticType = defaultSemtype.lowercased() == "none" ? nil : (defaultSemtype, "Default")
            let (conso, sty) = try exporter.export(store, to: out)
            print("wrote \(out)/MRCONSO.RRF (\(conso) rows) and \(out)/MRSTY.RRF (\(sty) rows)")
        }
    }

    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the lexicon's approximate-string index from its strings (after an update of thinkgraph changed the index format).")

        @Argument(help: "Lexicon folder.")
        var directory: String

        func run() throws {
            let record = try LexiconStore.reindex(directory: directory)
            print("rebuilt \(directory)/\(record.file): \(record.strings) strings, \(record.bytes) bytes")
        }
    }

    struct Strings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the lexicon's normalised strings, one per line, in id order (what its SimString index holds).")

        @Argument(help: "Lexicon folder.")
        var directory: String

        func run() throws {
            let store = try LexiconStore(directory: directory)
            var output = StandardOutput()
            try store.forEachString { _, text in
                try output.write(text)
                try output.write("\n")
            }
            try output.flush()
        }
    }
}

func commaList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
