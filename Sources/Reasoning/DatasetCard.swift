import Foundation
import Runtime
import TGSupport

/// The `README.md` that `filter` writes beside `dataset.jsonl`: a Hugging
/// Face dataset card (a YAML header with the features, sizes and the data
/// file; then what the data is made from and how it was filtered), so the
/// run folder can be loaded with `datasets.load_dataset(RUN)` and shared
/// as it is, with its provenance.
public struct DatasetCard {
    public var runName: String
    public var summary: FilterStage.Summary
    /// The run's manifest (import source and format, samples, rules).
    public var manifest: RunManifest
    public var minimumCoverage: Double
    public var minimumGrounding: Double
    public var rules: [String]

    public init(runName: String, summary: FilterStage.Summary, manifest: RunManifest, minimumCoverage: Double,
                minimumGrounding: Double, rules: [String]) {
        self.runName = runName
        self.summary = summary
        self.manifest = manifest
        self.minimumCoverage = minimumCoverage
        self.minimumGrounding = minimumGrounding
        self.rules = rules
    }

    /// The features of `dataset.jsonl` as `DatasetRecord` writes them.
    static let features = """
        dataset_info:
          features:
          - name: id
            dtype: string
          - name: task
            dtype: string
          - name: instruction
            dtype: string
          - name: input
            dtype: string
          - name: target
            sequence: string
          - name: target_codes
            sequence: string
          - name: graph
            struct:
            - name: pairs
              list:
              - name: target
                dtype: string
              - name: history
                dtype: string
              - name: lift
                dtype: float64
              - name: count
                dtype: int64
            - name: paths
              list:
              - name: target
                dtype: string
              - name: history
                dtype: string
              - name: path
                sequence: string
              - name: concepts
                sequence: string
              - name: hops
                dtype: int64
          - name: chains
            sequence: string
          - name: model
            dtype: string
          - name: usage
            struct:
            - name: prompt_tokens
              dtype: int64
            - name: completion_tokens
              dtype: int64
            - name: requests
              dtype: int64
          - name: provenance
            struct:
            - name: run
              dtype: string
            - name: template
              dtype: string
            - name: template_sha256
              dtype: string
            - name: host
              dtype: string
            - name: parameters
              dtype: string
            - name: source
              dtype: string
        """

    public static func sizeCategory(_ count: Int) -> String {
        switch count {
        case ..<1_000: return "n<1K"
        case ..<10_000: return "1K<n<10K"
        case ..<100_000: return "10K<n<100K"
        case ..<1_000_000: return "100K<n<1M"
        default: return "1M<n<10M"
        }
    }

    /// What the patient data's terms say about sharing derived data.
    public static func licenceNote(format: String) -> String {
        switch format {
        case "mimic-iv":
            return "MIMIC-IV is credentialed data (PhysioNet Credentialed Health Data Licence 1.5.0 and its data use agreement): "
                + "this dataset contains text derived from patients' records and must not be shared outside PhysioNet's terms "
                + "(in particular, not sent to services that keep or train on it, and not published)."
        case "fhir-r4":
            return "FHIR input: the terms are those of the source. The demo's cohort is synthetic (clinosim, MIT); Synthea's output "
                + "is synthetic (Apache-2.0). Real patients' FHIR data carries its institution's terms."
        case "omop-cdm":
            return "OMOP CDM input: the terms are those of the source database; OMOP vocabularies from Athena carry their own "
                + "licences (some, such as CPT4, restricted)."
        default:
            return "The input's terms apply to this dataset."
        }
    }

    public var text: String {
        let total = summary.total
        let examples = total.keptSamples
        let imported = manifest.stage("import")
        let format = imported?.configuration.first { $0.0 == "format" }?.1.stringValue ?? "unknown"
        let source = imported?.configuration.first { $0.0 == "source" }?.1.stringValue ?? "unknown"
        let importCounts = imported?.counts
        let evidence = manifest.stage("evidence")
        func setting(_ stage: RunManifest.Stage?, _ key: String) -> String {
            guard let value = stage?.configuration.first(where: { $0.0 == key })?.1 else { return "-" }
            return value.stringValue ?? value.jsonText
        }
        var lines: [String] = ["---", "pretty_name: thinkgraph reasoning chains (\(runName))", "license: other", "language:", "- en",
                               "task_categories:", "- text-generation", "- question-answering",
                               "tags:", "- medical", "- clinical-reasoning", "- electronic-health-records", "- thinkgraph",
                               "size_categories:", "- \(Self.sizeCategory(examples))",
                               "configs:", "- config_name: default", "  data_files:", "  - split: train", "    path: dataset.jsonl"]
        lines += Self.features.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines += ["  splits:", "  - name: train", "    num_bytes: \(summary.datasetBytes)", "    num_examples: \(examples)",
                  "  dataset_size: \(summary.datasetBytes)", "---", ""]
        lines += [
            "# thinkgraph reasoning chains: \(runName)", "",
            "Clinical reasoning chains over patients' records, made by thinkgraph (version "
                + "\(ThinkgraphVersion.current)) the way EHR-R1 made its thinking-graph data: for each sample, the events "
                + "before a target event (`input`), the items of the target (`target`), the evidence graph linking the "
                + "patient's history to the target (`graph`: lift pairs and knowledge paths) and the model's kept "
                + "reasoning chains (`chains`). Only training patients' samples are here.", "",
            "## Sources", "",
            "- Patient data: `\(source)` (\(format)), \(importCounts?["patients"].map { $0.jsonText } ?? "?") patients, "
                + "\(importCounts?["events"].map { $0.jsonText } ?? "?") events.",
            "- Evidence graph: the lexicon built \(setting(evidence, "lexicon")), lift threshold \(setting(evidence, "threshold")), "
                + "least support \(setting(evidence, "min_support")), path rules `\(setting(evidence, "path_profile"))`, "
                + "at most \(setting(evidence, "max_hops")) hops.",
            "- Models: " + summary.models.sorted { $0.key < $1.key }.map { "`\($0.key)` (\($0.value) examples)" }.joined(separator: ", "),
            "- Prompt templates: " + summary.templates.sorted { $0.key < $1.key }
                .map { "`\($0.key)` (SHA-256 \($0.value.prefix(12))…)" }.joined(separator: ", "), "",
            "## Tasks and the filter", "",
            "A chain is kept when it passes every rule (`\(rules.joined(separator: "`, `"))`): its final answer covers at least "
                + String(format: "%.0f %%", minimumCoverage * 100) + " of the target items, and at least "
                + String(format: "%.0f %%", minimumGrounding * 100) + " of the events it cites and the values it quotes are in its "
                + "input (grounding). A sample is kept with at least one kept chain.", "",
            "| task | samples answered | samples kept | chains | chains kept | pass rate | near copies | top rejections |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for (task, stats) in summary.byTask.sorted(by: { $0.key < $1.key }) {
            let rate = stats.completions == 0 ? 0 : Double(stats.keptCompletions) / Double(stats.completions) * 100
            let top = stats.reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
                .map { "\($0.key) (\($0.value))" }.joined(separator: "; ")
            lines.append("| \(task) | \(stats.answered) | \(stats.keptSamples) | \(stats.completions) | \(stats.keptCompletions) | "
                         + String(format: "%.0f %%", rate) + " | \(stats.nearDuplicates) | \(top.replacingOccurrences(of: "|", with: "/")) |")
        }
        lines += ["", "## Grounding", "",
                  "Share of a chain's cited events, quoted values and (when checked) the concepts it states about the patient "
                  + "found in its input, over all judged chains:", "",
                  "| score | chains |", "|---|---:|"]
        for band in FilterStage.bands { if let count = total.grounding[band] { lines.append("| \(band) | \(count) |") } }
        lines += ["", "\(total.coveredButUngrounded) chains covered their targets (EHR-R1's filter would keep them) but were not "
                  + "grounded; \(total.backwards) state as a fact a concept only the expected answer holds; "
                  + "\(total.nearDuplicates) kept chains nearly copy another (`near_duplicate_of` in `filter.jsonl`).", "",
                  "## Licence notes", "", Self.licenceNote(format: format), "",
                  "The knowledge behind the evidence graphs comes from the lexicon's sources; `lexicon info` lists them with "
                  + "their versions and licences.", "",
                  "## Files", "",
                  "- `dataset.jsonl`: the examples (this card's `configs` points `datasets.load_dataset` at it).",
                  "- `filter.jsonl`: every chain's verdict (reasons, coverage, grounding, near copies); `filter-stats.json`: the "
                  + "counts above; `run.json`: every stage's settings and the checksums of its inputs and outputs.", ""]
        return lines.joined(separator: "\n")
    }
}
