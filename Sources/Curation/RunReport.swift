import Foundation
import LLM
import Runtime
import TGSupport

/// `thinkgraph report`: one self-contained HTML page about a run (no
/// scripts, no network): stages, graph coverage, lift and path-length
/// distributions, relations, acceptance, usage and cost, and a few
/// examples with their evidence graph beside the chain that used it.
public struct RunReport {
    public var examples = 6
    public var seed: UInt64 = 0

    public init(examples: Int = 6, seed: UInt64 = 0) {
        self.examples = examples
        self.seed = seed
    }

    /// What the evidence records add up to.
    struct EvidenceFigures {
        var byTask: [String: [String: Int]] = [:]
        var lifts: [Double] = []
        var hops: [Int] = []
        var relations: [String: Int] = [:]
        var withGraph: [String] = []
    }

    public func html(for view: RunView) throws -> String {
        let manifest = try RunManifest(directory: view.run.path)
        var figures = EvidenceFigures()
        try view.evidence.forEach { value in
            let record = try EvidenceRecord(json: value, file: view.run.merged("evidence"), line: nil)
            figures.byTask[record.task, default: [:]][record.status.rawValue, default: 0] += 1
            figures.lifts.append(contentsOf: record.pairs.map(\.lift))
            for path in record.paths {
                figures.hops.append(path.hops)
                for relation in path.relations { figures.relations[relation, default: 0] += 1 }
            }
            if record.status == .graph { figures.withGraph.append(record.id) }
        }
        // Missing is fine (no filter yet); present but not the filter's JSON object is an error.
        let statsPath = view.run.path + "/filter-stats.json"
        var filterStats: JSONValue?
        if FileManager.default.fileExists(atPath: statsPath) {
            do {
                let value = try JSONValue.parse(String(contentsOfFile: statsPath, encoding: .utf8))
                guard value.objectValue != nil else { throw InputError(file: statsPath, message: "expected a JSON object (as `filter` writes it)") }
                filterStats = value
            } catch let error as InputError {
                throw error
            } catch {
                throw InputError(file: statsPath, message: "\(error) (re-run `thinkgraph filter`)")
            }
        }

        var page = Page(title: "thinkgraph report: " + URL(fileURLWithPath: view.run.path).lastPathComponent)
        page.add("<h1>\(HTML.escape(page.title))</h1>")
        page.add("<p class=\"muted\">Run folder <code>\(HTML.escape(view.run.path))</code>; written \(HTML.escape(RunManifest.now())) by thinkgraph.</p>")
        stages(manifest, into: &page)
        coverage(figures, into: &page)
        distributions(figures, into: &page)
        acceptance(filterStats, into: &page)
        try grounding(filterStats, view: view, into: &page)
        try usage(manifest, view: view, into: &page)
        try exampleSection(view, figures: figures, into: &page)
        return page.html
    }

    // MARK: sections

    func stages(_ manifest: RunManifest, into page: inout Page) {
        page.add("<h2>Stages</h2>")
        var rows: [[String]] = []
        let parser = ISO8601DateFormatter()
        for (name, stage) in manifest.stages {
            var seconds = ""
            if let started = stage.started.flatMap(parser.date(from:)), let finished = stage.finished.flatMap(parser.date(from:)) {
                seconds = Self.duration(finished.timeIntervalSince(started))
            }
            let counts = (stage.counts.objectValue ?? []).compactMap { key, value -> String? in
                guard let number = value.doubleValue else { return nil }
                return "\(key) \(Self.number(number))"
            }.joined(separator: ", ")
            rows.append([name, stage.status, stage.finished ?? "", seconds, counts])
        }
        page.table(["stage", "status", "finished", "took", "counts"], rows)
    }

    func coverage(_ figures: EvidenceFigures, into page: inout Page) {
        page.add("<h2>Graph coverage per task</h2>")
        guard !figures.byTask.isEmpty else { return page.add("<p class=\"muted\">The evidence stage has not run.</p>") }
        let rows = figures.byTask.keys.sorted().map { task -> [String] in
            let counts = figures.byTask[task]!
            let total = counts.values.reduce(0, +)
            let graph = counts["graph", default: 0]
            return [task, "\(total)", "\(graph)", "\(counts["no_path", default: 0])", "\(counts["no_pairs", default: 0])",
                    Self.percent(Double(graph) / Double(max(1, total)))]
        }
        page.table(["task", "samples", "graph", "no path", "no pairs", "coverage"], rows)
    }

    func distributions(_ figures: EvidenceFigures, into page: inout Page) {
        page.add("<h2>Distributions</h2><div class=\"row\">")
        let liftBins: [(String, ClosedRange<Double>)] = [("≤1", -Double.infinity...1), ("1–2", 1.000001...2), ("2–5", 2.000001...5),
                                                          ("5–10", 5.000001...10), ("10–50", 10.000001...50), (">50", 50.000001...Double.infinity)]
        page.add("<div><h3>Lift of the pairs kept (\(figures.lifts.count))</h3>"
                 + Charts.bars(liftBins.map { bin in (bin.0, figures.lifts.filter { bin.1.contains($0) }.count) }) + "</div>")
        let most = max(1, figures.hops.max() ?? 1)
        page.add("<div><h3>Path length in hops (\(figures.hops.count) paths)</h3>"
                 + Charts.bars((1...most).map { hops in ("\(hops)", figures.hops.filter { $0 == hops }.count) }) + "</div>")
        let top = figures.relations.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(12)
        page.add("<div><h3>Most frequent relations</h3>" + Charts.bars(top.map { ($0.key, $0.value) }, horizontal: true) + "</div>")
        page.add("</div>")
    }

    func acceptance(_ stats: JSONValue?, into page: inout Page) {
        page.add("<h2>Acceptance</h2>")
        guard let stats else { return page.add("<p class=\"muted\">The filter has not run.</p>") }
        let rows = (stats["tasks"]?.objectValue ?? []).map { task, value -> [String] in
            ["\(task)", Self.int(value["samples"]), Self.int(value["answered"]), Self.int(value["kept_samples"]),
             "\(Self.int(value["kept_completions"])) / \(Self.int(value["completions"]))",
             Self.percent(value["acceptance"]?.doubleValue ?? 0)]
        }
        page.table(["task", "samples", "answered", "kept samples", "kept chains", "acceptance"], rows)
        let reasons = (stats["total"]?["rejections"]?.objectValue ?? []).map { ($0.0, Int($0.1.doubleValue ?? 0)) }
            .sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        let unanswered = (stats["total"]?["unanswered"]?.objectValue ?? []).map { ($0.0, Int($0.1.doubleValue ?? 0)) }
        if !reasons.isEmpty {
            page.add("<h3>Why chains were rejected</h3>" + Charts.bars(reasons, horizontal: true))
        }
        if !unanswered.isEmpty {
            page.add("<p>Samples without an answer: " + unanswered.map { "\(HTML.escape($0.0)) \($0.1)" }.joined(separator: ", ") + ".</p>")
        }
    }

    /// The grounding scores' distribution and the least grounded chains,
    /// their unsupported claims marked.
    func grounding(_ stats: JSONValue?, view: RunView, into page: inout Page) throws {
        guard let bands = stats?["total"]?["grounding"]?.objectValue, !bands.isEmpty else { return }
        page.add("<h2>Grounding</h2>")
        page.add("<p>Share of each chain's cited events (<code>**Event [time]**</code>), quoted values and, when the filter had "
                 + "the lexicon, the concepts it states about the patient found in its context or knowledge paths. "
                 + "\(Self.int(stats?["total"]?["covered_but_ungrounded"])) chains covered their targets, which is all EHR-R1's "
                 + "filter asks, but were not grounded; \(Self.int(stats?["total"]?["reasoning_backwards"])) state as a fact a "
                 + "concept only the expected answer holds (reasoning backwards).</p>")
        page.add(Charts.bars(bands.map { ($0.0, Int($0.1.doubleValue ?? 0)) }))
        let worst = try view.leastGrounded(3)
        guard !worst.isEmpty else { return }
        page.add("<h3>The least grounded chains</h3>")
        for entry in worst {
            let example = try view.example(entry.id, complete: false)
            guard example.chains.indices.contains(entry.chain) else { continue }
            let chain = example.chains[entry.chain]
            var text = HTML.escape(chain.text)
            // What the check could not find, marked where the chain says it.
            for claim in chain.grounding?.unsupported ?? [] {
                guard let end = claim.range(of: ": no such") ?? claim.range(of: ": only in the expected answer") else { continue }
                let written = HTML.escape(String(claim[..<end.lowerBound]))
                text = text.replacingOccurrences(of: written, with: "<mark>\(written)</mark>")
            }
            page.add("<p><b>\(HTML.escape(entry.id))</b> (\(HTML.escape(example.task)), chain \(entry.chain + 1)): grounding "
                     + String(format: "%.2f", entry.score) + "; " + HTML.escape((chain.grounding?.unsupported ?? []).joined(separator: "; "))
                     + "</p><pre class=\"chain\">\(text)</pre>")
        }
    }

    func usage(_ manifest: RunManifest, view: RunView, into page: inout Page) throws {
        page.add("<h2>Token usage and cost</h2>")
        guard let counts = manifest.stage("reasoning")?.counts else {
            return page.add("<p class=\"muted\">The reasoning stage has not been merged.</p>")
        }
        let usage = TokenUsage(json: counts)
        // The live stage records its parameters in run.json; a batch import
        // does not, so then the first answered record names the model.
        let configured = manifest.stage("reasoning")?.configuration.first { $0.0 == "parameters" }?.1["model"]?.stringValue
        let model = try configured ?? view.reasoning.first { $0["status"]?.stringValue != ReasoningRecord.Status.skipped.rawValue }
            .map { try ReasoningRecord(json: $0, file: view.run.merged("reasoning"), line: nil) }?.asked?.model
        var cost = "no price known for this model"
        if let model, let price = Price.of(model: model) { cost = String(format: "$%.4f (list price of %@)", price.cost(usage), model) }
        page.table(["model", "requests", "prompt tokens", "completion tokens", "estimated cost"],
                   [[model ?? "?", Self.number(Double(usage.requests)), Self.number(Double(usage.promptTokens)),
                     Self.number(Double(usage.completionTokens)), cost]])
    }

    func exampleSection(_ view: RunView, figures: EvidenceFigures, into page: inout Page) throws {
        page.add("<h2>Examples</h2>")
        // Answered examples with a graph first (kept before rejected), then
        // any with a graph; a seeded draw within each group.
        var groups: [[Example]] = [[], [], []]
        for id in figures.withGraph {
            let example = try view.example(id, complete: false)
            groups[example.isKept ? 0 : example.chains.isEmpty ? 2 : 1].append(example)
        }
        var chosen: [Example] = []
        for group in groups where chosen.count < examples {
            let drawn = group.sorted { StableHash.of("\(seed):\($0.id)") < StableHash.of("\(seed):\($1.id)") }
            chosen += drawn.prefix(examples - chosen.count)
        }
        guard !chosen.isEmpty else { return page.add("<p class=\"muted\">No sample has an evidence graph yet.</p>") }
        page.add("<p class=\"muted\">Orange: target concepts; green: the patient's history; grey: concepts on the way. Highlighted events are the ones the chain cites.</p>")
        for example in chosen { page.add(ExamplePanel.html(try view.example(example.id))) }
    }

    // MARK: formatting

    static func duration(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.0f s", seconds) : String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? Int(value).formatted() : String(format: "%.3g", value)
    }

    static func int(_ value: JSONValue?) -> String { number(value?.doubleValue ?? 0) }

    static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }
}
