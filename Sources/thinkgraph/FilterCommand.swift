import ArgumentParser
import Foundation
import Lexicon
import Matcher
import Reasoning
import Runtime
import TGSupport

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Stage 5: keep the faithful reasoning chains and write RUN/dataset.jsonl with per-task acceptance statistics.",
        discussion: """
            Only training patients' samples reach the dataset. A completion is kept when it finished (not cut off or filtered), has the template's sections, its final answer \
            covers at least --min-coverage of the target items, and it never mentions the expected answer or the supplied \
            knowledge (phrases in --leak-phrases; a copied knowledge path counts). DeepICD completions need a code that \
            exists in the lexicon's ICD-10-CM and agrees with the gold codes at --icd-level or deeper. The grounding check \
            (rule grounding) keeps a chain only when at least --min-grounding of the events it cites \
            (**Event Name [Event Time]**) are in its context at that time, of the values it quotes with a unit are \
            values of its context and, with --lexicon, of the concepts it states about the patient are in its context or \
            knowledge paths (one only the expected answer holds is reasoning backwards). A sample is kept \
            with at least one kept completion. Writes RUN/dataset.jsonl, RUN/filter.jsonl (every verdict with its reasons) \
            and RUN/filter-stats.json, and RUN/README.md: a Hugging Face dataset card (`datasets.load_dataset(RUN)` \
            reads dataset.jsonl through it).
            """)

    @Option(name: .customLong("run"), help: "Run folder (after `reason merge` or `reason import-batch`).")
    var runFolder: String

    @Option(help: "Least share of target items the final answer must hold.")
    var minCoverage = 0.7

    @Option(help: "Least share of a chain's cited events and quoted values its context supports (rule grounding).")
    var minGrounding = 0.75

    @Option(help: "Least similarity (estimated Jaccard of word 5-grams) at which a kept chain is marked as a near copy of an earlier kept chain, of its sample or another; 1 marks exact copies only.")
    var nearDuplicates = 0.8

    @Option(help: "Phrase list, one per line (default: the shipped list).")
    var leakPhrases: String?

    @Option(help: "Lexicon folder, the one extract used: the grounding check's concept part matches chains with it, and DeepICD codes must exist in its ICD-10-CM.")
    var lexicon: String?

    @Option(help: "The checks: all (default), reference (EHR-R1's: coverage, ground-truth, header-variants) or a list of coverage, ground-truth, header-variants, finished, sections, leak-phrases, knowledge-copy, repetition, grounding.")
    var rules = "all"

    @Option(help: "DeepICD: least agreement kept (chapter, category or full).")
    var icdLevel = "category"

    @Flag(help: "Run even if reasoning.jsonl changed since the stage before wrote it.")
    var force = false

    @Flag(help: "Print the statistics as one JSON line.")
    var json = false

    func run() throws {
        let run = try RunFolder(runFolder)
        guard (0...1).contains(minCoverage) else { throw ValidationError("--min-coverage must be between 0 and 1") }
        guard (0...1).contains(minGrounding) else { throw ValidationError("--min-grounding must be between 0 and 1") }
        guard nearDuplicates > 0, nearDuplicates <= 1 else { throw ValidationError("--near-duplicates must be in (0, 1]") }
        guard let level = ICDLevel(name: icdLevel), level != .none else {
            throw ValidationError("--icd-level must be chapter, category or full")
        }
        let started = RunManifest.now()
        let checksum = try run.verify(.reasoning, force: force)
        var filter = ChainFilter(leakPhrases: try ChainFilter.leakPhrases(file: leakPhrases))
        filter.minimumCoverage = minCoverage
        filter.minimumGrounding = minGrounding
        filter.rules = try FilterRule.parse(rules)
        filter.minimumLevel = level
        if let lexicon {
            let store = try LexiconStore(directory: lexicon)
            filter.validCodes = Set(try store.codes(source: "ICD10CM").map(LexiconStore.codeKey))
            if filter.rules.contains(.grounding) {
                filter.conceptCheck = try conceptCheck(store, run: run)
            }
        } else if try Self.hasDeepICDRecords(run.merged("reasoning")) {
            throw ValidationError("DeepICD completions are checked against the lexicon's ICD-10-CM codes: pass --lexicon DIR")
        }
        var stage = FilterStage(filter: filter)
        stage.nearDuplicateThreshold = nearDuplicates
        let summary = try stage.run(run, input: run.merged("reasoning"), runName: (run.path as NSString).lastPathComponent)
        var manifest = try RunManifest(directory: run.path)
        var entry = RunManifest.Stage(status: "complete")
        entry.started = started
        entry.finished = RunManifest.now()
        entry.configuration = [("min_coverage", .number(minCoverage)), ("min_grounding", .number(minGrounding)),
                               ("concept_check", .bool(filter.conceptCheck != nil)),
                               ("near_duplicates", .number(nearDuplicates)),
                               ("icd_level", .string(level.name)),
                               ("leak_phrases", .string(leakPhrases ?? "shipped")),
                               ("rules", .array(FilterRule.allCases.filter(filter.rules.contains).map { .string($0.rawValue) }))]
        entry.inputs = [("reasoning.jsonl", checksum)]
        try entry.recordOutputs(PipelineStage.filter.outputs, in: run)
        entry.counts = summary.total.json
        manifest.set("filter", entry)
        // The dataset card beside dataset.jsonl (written atomically).
        let card = DatasetCard(runName: (run.path as NSString).lastPathComponent, summary: summary, manifest: manifest,
                               minimumCoverage: minCoverage, minimumGrounding: minGrounding,
                               rules: FilterRule.allCases.filter(filter.rules.contains).map(\.rawValue))
        let cardFile = try JSONLinesWriter(path: run.path + "/README.md")
        try cardFile.writeLine(card.text)
        try cardFile.commit()
        try manifest.save()
        if json {
            print(summary.json.jsonText)
            return
        }
        let total = summary.total
        print("filter: \(total.keptSamples) of \(total.answered) answered samples kept (\(total.keptCompletions) of \(total.completions) chains) -> \(run.path)/dataset.jsonl")
        if summary.testSamples > 0 {
            print("  \(summary.testSamples) samples of test patients left out of the dataset (thinkgraph export eval --run \(runFolder))")
        }
        if !total.grounding.isEmpty {
            let bands = FilterStage.bands.compactMap { band in total.grounding[band].map { "\(band): \($0)" } }
            let what = filter.conceptCheck == nil ? "cited events and quoted values" : "cited events, quoted values and asserted concepts"
            print("  grounding of the chains (share of \(what) found in the context): "
                  + bands.joined(separator: ", ") + "; \(total.coveredButUngrounded) covered the targets but were not grounded")
            if filter.conceptCheck == nil {
                print("  concepts not checked: pass --lexicon (the lexicon extract used) to check what chains assert about the patient")
            } else if total.backwards > 0 {
                print("  \(total.backwards) chains state as a fact a concept only the expected answer holds (reasoning backwards)")
            }
        }
        if total.nearDuplicates > 0 {
            print("  \(total.nearDuplicates) kept chains nearly copy another kept chain (see near_duplicate_of in filter.jsonl)")
        }
        for (task, stats) in summary.byTask.sorted(by: { $0.key < $1.key }) {
            let top = stats.reasons.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \($0.value)" }.joined(separator: "; ")
            print("  \(task): \(stats.keptSamples)/\(stats.answered) samples, \(stats.keptCompletions)/\(stats.completions) chains\(top.isEmpty ? "" : "; rejected: " + top)")
        }
    }

    static func hasDeepICDRecords(_ path: String) throws -> Bool {
        let reader = try LineReader(path: path)
        while let line = try reader.nextLine() {
            if String(decoding: line, as: UTF8.self).contains(#""format":"deepicd""#) { return true }
        }
        return false
    }

    /// The concept matcher extraction used: its lexicon, at the threshold
    /// the extract stage recorded. A lexicon other than extract's is named.
    private func conceptCheck(_ store: LexiconStore, run: RunFolder) throws -> ConceptCheck {
        var options = ConceptMatcher.Options()
        let extract = try RunManifest(directory: run.path).stage("extract")
        if let threshold = extract?.configuration.first(where: { $0.0 == "threshold" })?.1.doubleValue { options.threshold = threshold }
        if let recorded = extract?.configuration.first(where: { $0.0 == "lexicon" })?.1.stringValue, recorded != store.manifest.createdAt {
            FileHandle.standardError.write(Data("filter: warning: \(store.directory) is not the lexicon extract used (built \(recorded)); "
                .appending("the concept check matches with this one\n").utf8))
        }
        return try ConceptCheck(matcher: ConceptMatcher(lexicon: store, context: ContextRules.standard(), options: options))
    }
}
