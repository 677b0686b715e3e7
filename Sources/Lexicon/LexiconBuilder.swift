import Foundation
import SimString
import SQLiteDB
import TGSupport

/// What to build a lexicon from.
public struct LexiconSources: Sendable {
    /// A UMLS release folder (or its META subfolder) with MRCONSO.RRF.
    public var umls: String?
    /// OBO ontology files (e.g. HPO's hp.obo).
    public var obo: [String]
    /// ICD-10-CM tabular XML files.
    public var icd10cm: [String]
    /// Folders of Synthea disease modules (clinical relations).
    public var synthea: [String]
    /// Drug-name dictionaries (the drug-named-entity-recognition pickle):
    /// other names of the drugs the other sources have.
    public var drugNames: [String]
    /// HPO's disease annotations (`phenotype.hpoa`): disease → phenotype
    /// relations between the diseases and HPO terms the other sources have.
    public var hpoAnnotations: [String]

    public init(umls: String? = nil, obo: [String] = [], icd10cm: [String] = [], synthea: [String] = [], drugNames: [String] = [],
                hpoAnnotations: [String] = []) {
        self.umls = umls
        self.obo = obo
        self.icd10cm = icd10cm
        self.synthea = synthea
        self.drugNames = drugNames
        self.hpoAnnotations = hpoAnnotations
    }

    var isEmpty: Bool { umls == nil && obo.isEmpty && icd10cm.isEmpty && synthea.isEmpty }
}

/// How to build it.
public struct LexiconBuildOptions: Sendable {
    /// UMLS languages to keep (MRCONSO LAT).
    public var languages: [String] = ["ENG"]
    /// UMLS source vocabularies to keep (SAB); nil keeps all.
    public var sourceVocabularies: [String]?
    /// Keep rows UMLS marks suppressible (SUPPRESS O, E or Y).
    public var keepSuppressible = false
    public var normalizer = TermNormalizer()
    /// How the approximate-string index cuts strings: QuickUMLS's settings
    /// (character trigrams, Unicode, no begin/end marks) by default.
    public var approximateIndex = FeatureSettings(n: 3, marks: false, unicode: true)
    /// Replace an existing lexicon at the destination.
    public var replaceExisting = false

    public init() {}
}

/// Builds a lexicon folder: `lexicon.sqlite` plus `manifest.json`.
///
/// The build happens in a hidden staging folder beside the destination and is
/// moved into place only when complete, so a failed or interrupted build never
/// leaves something a later stage would take for a lexicon.
///
/// Sources are read in two phases: first every source adds its concepts and
/// terms (UMLS, then OBO files, then ICD-10-CM), so that concepts merge on
/// their ids; then every source adds semantic types, definitions and
/// relations, which may join concepts contributed by different sources.
public struct LexiconBuilder: Sendable {
    public var sources: LexiconSources
    public var options: LexiconBuildOptions
    public var progress: (@Sendable (String) -> Void)?

    public init(sources: LexiconSources, options: LexiconBuildOptions, progress: (@Sendable (String) -> Void)? = nil) {
        self.sources = sources
        self.options = options
        self.progress = progress
    }

    @discardableResult
    public func build(into destination: String) throws -> LexiconManifest {
        guard !sources.isEmpty else {
            throw UsageError("no sources: give at least one of --umls, --obo, --icd10cm, --synthea (--drug-names and --hpo-annotations only add to what those give)")
        }
        try checkInputsExist()
        let staged = try StagedDirectory(destination: destination, replacingExisting: options.replaceExisting,
                                          marker: LexiconSchema.manifestFileName, kind: "a lexicon")
        do {
            let manifest = try buildStaged(staged)
            try staged.commit()
            return manifest
        } catch {
            staged.discard()
            throw error
        }
    }

    private func checkInputsExist() throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if let umls = sources.umls {
            guard fileManager.fileExists(atPath: umls, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError(file: umls, message: "missing: --umls takes a folder holding MRCONSO.RRF")
            }
        }
        for file in sources.obo + sources.icd10cm + sources.synthea + sources.drugNames + sources.hpoAnnotations where !fileManager.fileExists(atPath: file) {
            throw InputError(file: file, message: "missing file")
        }
    }

    private func buildStaged(_ staged: StagedDirectory) throws -> LexiconManifest {
        let recordedOptions = LexiconManifest.Options(
            languages: options.languages, sourceVocabularies: options.sourceVocabularies,
            keepSuppressible: options.keepSuppressible)
        let (counts, sourceRecords) = try importSources(into: staged.path(LexiconSchema.databaseFileName),
                                                        options: recordedOptions)
        progress?("approximate-string index over \(counts.strings) strings")
        let approximateIndex = try buildApproximateIndex(staged)
        let databasePath = staged.path(LexiconSchema.databaseFileName)
        let databaseSize = (try FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? NSNumber)?
            .uint64Value ?? 0
        let manifest = LexiconManifest(
            formatVersion: LexiconSchema.formatVersion,
            tool: "thinkgraph \(ThinkgraphVersion.current)",
            createdAt: ISO8601DateFormatter().string(from: Date()),
            normalization: .init(lowercase: options.normalizer.lowercase,
                                 asciiTransliteration: options.normalizer.asciiTransliteration,
                                 algorithmVersion: TermNormalizer.algorithmVersion),
            options: recordedOptions,
            sources: sourceRecords,
            counts: counts,
            database: .init(path: LexiconSchema.databaseFileName, bytes: databaseSize, sha256: nil),
            approximateIndex: approximateIndex)
        try manifest.write(to: staged.path(LexiconSchema.manifestFileName))
        return manifest
    }

    /// Phases 1 and 2 into a fresh database; the writer (and its in-memory
    /// tables) is gone when this returns.
    private func importSources(into databasePath: String, options recordedOptions: LexiconManifest.Options) throws
        -> (LexiconCounts, [LexiconManifest.Source]) {
        let writer = try LexiconWriter(databasePath: databasePath, normalizer: options.normalizer)
        var umls = try sources.umls.map { try UMLSImporter(directory: $0, options: recordedOptions, progress: progress) }
        progress?("reading sources")
        var obo = try sources.obo.map { try OBOImporter(path: $0) }
        var icd = try sources.icd10cm.map { try ICD10CMImporter(path: $0) }
        var synthea = try sources.synthea.map { try SyntheaImporter(directory: $0) }
        var drugNames = try sources.drugNames.map { try DrugNamesImporter(path: $0) }
        var annotations = try sources.hpoAnnotations.map { try HPOAnnotationsImporter(path: $0) }
        // An empty or wrong file is an error, not a lexicon without its terms.
        for importer in obo where importer.document.terms.isEmpty {
            throw InputError(file: importer.document.file.path, message: "no [Term] stanzas: an empty file or not an OBO ontology")
        }
        for importer in icd where importer.tabular.nodes.isEmpty {
            throw InputError(file: importer.tabular.file.path, message: "no codes: an empty file or not the ICD-10-CM tabular XML")
        }

        // Phase 1: concepts and terms.
        try umls?.importConcepts(into: writer)
        for index in obo.indices {
            progress?("\(obo[index].source): \(obo[index].document.terms.count) terms")
            try obo[index].importConcepts(into: writer)
        }
        for index in icd.indices {
            progress?("ICD-10-CM: \(icd[index].tabular.nodes.count) entries")
            try icd[index].importConcepts(into: writer)
        }
        // Last: its codes join what the ontologies filed, its names what they named.
        for index in synthea.indices {
            progress?("Synthea: \(synthea[index].files.count) modules")
            try synthea[index].importConcepts(into: writer)
        }
        // Other names of the drugs those sources filed.
        let drugConcepts = synthea.reduce(into: Set<String>()) { $0.formUnion($1.drugConcepts) }
        for index in drugNames.indices {
            progress?("drug names: \(drugNames[index].counts["drugs"] ?? 0) drugs")
            try drugNames[index].importConcepts(into: writer, drugConcepts: drugConcepts)
        }
        // Phase 2: semantic types, definitions, relations.
        try umls?.importFacts(into: writer)
        for index in obo.indices { try obo[index].importFacts(into: writer) }
        for index in icd.indices { try icd[index].importFacts(into: writer) }
        for index in synthea.indices { try synthea[index].importFacts(into: writer) }
        for index in annotations.indices {
            progress?("HPO annotations: \(annotations[index].counts["rows"] ?? 0) rows")
            try annotations[index].importFacts(into: writer)
        }

        progress?("indexing")
        let counts = try writer.finish()
        guard counts.concepts > 0 else {
            throw UsageError("no concepts were read from the sources: nothing to build a lexicon from")
        }

        var sourceRecords: [LexiconManifest.Source] = []
        if let umls {
            sourceRecords.append(.init(kind: "umls", name: "UMLS", files: umls.files, counts: umls.counts))
        }
        for importer in obo {
            var name = importer.source
            if let version = importer.document.dataVersion { name += " " + version }
            sourceRecords.append(.init(kind: "obo", name: name, files: [importer.document.file], counts: importer.counts))
        }
        for importer in icd {
            let name = "ICD-10-CM" + (importer.tabular.version.map { " " + $0 } ?? "")
            sourceRecords.append(.init(kind: "icd10cm", name: name, files: [importer.tabular.file], counts: importer.counts))
        }
        for importer in synthea {
            sourceRecords.append(.init(kind: "synthea", name: "Synthea modules", files: [importer.record], counts: importer.counts))
        }
        for importer in drugNames {
            sourceRecords.append(.init(kind: "drug-names", name: "drug names", files: [importer.record], counts: importer.counts))
        }
        for importer in annotations {
            let name = "HPO annotations" + (importer.version.map { " " + $0 } ?? "")
            sourceRecords.append(.init(kind: "hpo-annotations", name: name, files: [importer.record], counts: importer.counts))
        }
        return (counts, sourceRecords)
    }

    /// The SimString index over every normalised string, in string-id order.
    private func buildApproximateIndex(_ staged: StagedDirectory) throws -> LexiconManifest.ApproximateIndex {
        let database = try Database(path: staged.path(LexiconSchema.databaseFileName), mode: .readOnly)
        return try ApproximateIndexFile.write(strings: database, settings: options.approximateIndex,
                                              to: staged.path(LexiconSchema.approximateIndexFileName))
    }
}
