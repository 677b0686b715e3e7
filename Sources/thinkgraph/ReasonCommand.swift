import ArgumentParser
import EHR
import Foundation
import LLM
import Reasoning
import Runtime
import TGSupport

struct ReasonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reason",
        abstract: "Stage 4: reasoning chains from a model for each sample (chunked, resumable, never pays twice).",
        subcommands: [ReasonRunCommand.self, ReasonMergeCommand.self, ReasonExportBatchCommand.self, ReasonImportBatchCommand.self,
                      ReasonTemplateCommand.self],
        defaultSubcommand: ReasonRunCommand.self)
}

/// What is asked: template, sampling, which samples and how big.
struct PromptOptions: ParsableArguments {
    @Option(help: "Run folder (after `evidence merge`).")
    var run: String

    @Option(help: "Model name (the Azure deployment's model for cost estimates).")
    var model = "gpt-4o"

    @Option(help: "Prompt template: ehr-r1-with-knowledge (EHR-R1's own, the default), ehr-r1-without-knowledge, ehr-r1-without-format, with-knowledge, without-knowledge, without-format, deepicd, or a file (see `reason template`). A knowledge template asks only about samples with a graph.")
    var template = PromptTemplate.standard

    @Option(help: "Make a local server follow the template's structure while it writes (llama.cpp's GBNF grammar): sections (the three headers, the target items as Final Results) or deepicd. A server that refuses it stops the run with an error.")
    var constrain: OutputConstraint?

    @Option(help: "Completions per prompt (fanned out with distinct seeds where the server refuses n > 1).")
    var n = 3

    @Option(help: "Sampling temperature.")
    var temperature = 0.5

    @Option(help: "Nucleus sampling top_p (default: the server's).")
    var topP: Double?

    @Option(help: "Longest completion, in tokens (default: none, as EHR-R1; a limit cuts chains the filter then rejects).")
    var maxTokens: Int?

    @Option(help: "The model's sampling seed sent with each request (default: none; fan-out requests get seeds from the sample id).")
    var samplingSeed: Int64?

    @Option(help: "Stop sequence (repeatable).")
    var stop: [String] = []

    @Option(help: "Token budget of the rendered patient context (oldest events dropped first).")
    var maxContextTokens = 6000

    @Option(help: "The model's context size, when known: the context budget shrinks so prompt and answer fit.")
    var contextWindow: Int?

    @Flag(help: "Ask only about samples whose evidence found a graph (others are recorded as skipped).")
    var requireGraph = false

    @Option(help: "Ask about at most this many samples of the run (the same seeded choice in every worker).")
    var limit: Int?

    @Option(help: "Only these tasks (comma-separated).")
    var task: String?

    @Option(help: "Task file (default: the run's, as `samples` wrote it).")
    var tasks: String?

    func validate() throws {
        guard n >= 1 else { throw ValidationError("--n must be at least 1") }
        guard temperature.isFinite, (0...2).contains(temperature) else { throw ValidationError("--temperature must be in [0, 2], not \(temperature)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], not \(topP)") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        guard maxContextTokens >= 1 else { throw ValidationError("--max-context-tokens must be at least 1") }
        if let contextWindow, contextWindow < 1 { throw ValidationError("--context-window must be at least 1") }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    @OptionGroup var splitOption: SplitOption

    @Flag(help: "Run even if an input changed since the stage before wrote it.")
    var force = false

    func stage() throws -> ReasonStage {
        guard n >= 1, (maxTokens ?? 1) >= 1, maxContextTokens >= 0 else { throw ValidationError("--n and --max-tokens must be at least 1") }
        let loaded = try PromptTemplate.load(template)
        var selection = ReasonSelection()
        selection.requireGraph = requireGraph
        selection.limit = limit
        selection.maxContextTokens = maxContextTokens
        selection.contextWindow = contextWindow
        selection.split = splitOption.split
        let parameters = ChatParameters(model: model, temperature: temperature, topP: topP, n: n, maxTokens: maxTokens,
                                        seed: samplingSeed, stop: stop)
        var stage = ReasonStage(template: loaded, parameters: parameters, selection: selection)
        if let constrain {
            guard constrain.format == loaded.format else {
                throw ValidationError("--constrain \(constrain.rawValue) needs a template of format \(constrain.format.rawValue); \(loaded.name) is \(loaded.format.rawValue)")
            }
            stage.constraint = constrain
        }
        return stage
    }

    func inputs() throws -> (ReasonInputs, checksums: [String]) {
        let folder = try RunFolder(run)
        let checksums = try folder.verifyInputs(of: .reasoning, force: force)
        var taskSet = try TaskSet.forRun(run, override: tasks).selecting(task ?? (template == "deepicd" ? "diagnoses_icd" : nil))
        // Generation tasks (the discharge note) are left out of reasoning
        // data, as EHR-R1 leaves them out, unless named with --task.
        if task == nil { taskSet.tasks.removeAll { $0.metric == .text } }
        return (try ReasonInputs(run: folder, tasks: taskSet), checksums)
    }

    /// What decides the records (never the key, never throughput settings).
    func configuration(_ stage: ReasonStage, host: String) -> [(String, JSONValue)] {
        [("template", .string(stage.template.name)), ("template_sha256", .string(stage.template.sha256)),
         ("parameters", stage.parameters.json), ("host", .string(host)),
         ("max_context_tokens", .integer(Int64(maxContextTokens))),
         ("context_window", contextWindow.map { .integer(Int64($0)) } ?? .null), ("require_graph", .bool(requireGraph)),
         ("limit", limit.map { .integer(Int64($0)) } ?? .null), ("task", task.map { .string($0) } ?? .null),
         ("split", .string(splitOption.split.rawValue)), ("constrain", constrain.map { .string($0.rawValue) } ?? .null)]
    }
}

struct ReasonRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Ask the model about one chunk of the run's samples, into RUN/reasoning/CHUNK.jsonl.",
        discussion: """
            Patient text goes only to loopback servers unless the host is named with --allow-remote. \
            Keys come from the environment or --api-key-file and never appear in any output.
            """)

    @OptionGroup var prompt: PromptOptions
    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var chunking: ChunkOptions

    @Flag(help: "Ask again about the samples recorded as failed (only those).")
    var retryFailed = false

    @Flag(help: "Write the exact requests to RUN/reason-requests/CHUNK.jsonl without sending anything, and print what sending them would take and cost per task (synchronous and Batch API).")
    var dryRun = false

    @Option(help: "US$ this invocation of the worker may spend: no request is sent whose estimated cost would take the spending over it (the chunk is left unfinished; run again with a larger budget to go on).")
    var budget: Double?

    func run() async throws {
        try await chunking.recordingFailure(of: .reasoning, runFolder: prompt.run) { try await work() }
    }

    func work() async throws {
        let stage = try prompt.stage()
        let (inputs, checksums) = try prompt.inputs()
        let resolved = try endpoint.resolve(sending: !dryRun)
        let chunk = try chunking.chunk()
        let configuration = prompt.configuration(stage, host: resolved.endpoint.host)
        if dryRun {
            // Nothing is sent: the client's transport ends when it is let go.
            let client = ChatClient(endpoint: resolved.endpoint, settings: resolved.settings)
            let (path, estimate) = try stage.writeRequests(inputs: inputs, client: client, chunk: chunk, strategy: chunking.strategy,
                                                           seed: chunking.seed)
            let price = resolved.price.map { Price(inputPerMillion: $0.0, outputPerMillion: $0.1) } ?? Price.of(model: stage.parameters.model)
            let basis = estimate.completionBasis(maxTokens: stage.parameters.maxTokens)
            if chunking.json {
                guard case .object(var members) = estimate.json else { return }
                members.append(("requests_file", .string(path)))
                members.append(("completion_tokens_per_completion", .number(basis.perCompletion)))
                if let price {
                    let cost = estimate.cost(estimate.total, price: price, basis: basis)
                    members.append(("cost_usd", .number((cost.synchronous * 10000).rounded() / 10000)))
                    members.append(("batch_cost_usd", .number((cost.batch * 10000).rounded() / 10000)))
                }
                print(JSONValue.object(members).jsonText)
            } else {
                print(Self.describe(estimate, basis: basis, price: price, model: stage.parameters.model, path: path))
            }
            return
        }
        var limit: SpendingLimit?
        if let budget {
            guard budget.isFinite, budget >= 0 else { throw ValidationError("--budget must be a number of US$ ≥ 0") }
            guard let price = resolved.price.map({ Price(inputPerMillion: $0.0, outputPerMillion: $0.1) }) ?? Price.of(model: stage.parameters.model) else {
                throw ValidationError("--budget needs a price: none is known for \(stage.parameters.model); pass --price-input and --price-output")
            }
            // The expected completion: --max-tokens (an upper bound), else the
            // run's earlier answers, else an assumption (as the dry run says).
            var estimate = CostEstimate()
            for (_, asked) in try ReasonStage.earlierAnswers(inputs.run) where asked.usage.requests > 0 {
                estimate.countCompletions(of: asked)
            }
            limit = SpendingLimit(dollars: budget, price: price,
                                  completionTokens: estimate.completionBasis(maxTokens: stage.parameters.maxTokens).perCompletion)
        }
        let client = ChatClient(endpoint: resolved.endpoint, settings: resolved.settings)
        let summary: ReasonStage.Summary
        do {
            summary = try await stage.run(inputs.run, inputs: inputs, checksums: checksums, client: client,
                                          configuration: configuration, chunk: chunk, strategy: chunking.strategy, seed: chunking.seed,
                                          saveEvery: chunking.saveEvery, retryFailed: retryFailed,
                                          progressLabel: "reason \(chunk)", quiet: chunking.quiet, limit: limit)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        let price = resolved.price.map { Price(inputPerMillion: $0.0, outputPerMillion: $0.1) } ?? Price.of(model: stage.parameters.model)
        let cost = price?.cost(summary.usage) ?? 0
        if chunking.json {
            guard case .object(var members) = summary.json else { return }
            members.append(("estimated_cost_usd", .number((cost * 10000).rounded() / 10000)))
            print(JSONValue.object(members).jsonText)
        } else if !chunking.quiet {
            FileHandle.standardError.write(Data("""
                reason \(chunk): \(summary.samples) asked (\(summary.ok) ok, \(summary.partial) partial, \(summary.failed) failed, \
                \(summary.tooLong) too long), \(summary.skipped) skipped, \(summary.resumed) already done; \
                \(summary.usage.requests) requests in \(summary.attempts) attempts, \(summary.usage.promptTokens) prompt + \
                \(summary.usage.completionTokens) completion tokens, estimated cost $\(String(format: "%.4f", cost))\
                \(price == nil ? " (no price known for \(stage.parameters.model); pass --price-input/--price-output)" : "")

                """.utf8))
        }
        if summary.failed > 0 {
            FileHandle.standardError.write(Data("reason \(chunk): \(summary.failed) samples failed; run again with --retry-failed to ask again about those only\n".utf8))
        }
    }
}

extension ReasonRunCommand {
    /// The dry run's table: per task and in total, requests, completions,
    /// tokens and price, with where each figure comes from.
    static func describe(_ estimate: CostEstimate, basis: CostEstimate.CompletionBasis, price: Price?, model: String,
                         path: String) -> String {
        var lines = ["reason: dry run, requests written to \(path) (nothing sent)", ""]
        func row(_ name: String, _ line: CostEstimate.Line) -> String {
            let completionTokens = Int((Double(line.completions) * basis.perCompletion).rounded())
            var text = name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + String(format: "%9d %12d %14d %18d", line.requests, line.completions, estimate.promptTokens(line), completionTokens)
            if let price {
                let cost = estimate.cost(line, price: price, basis: basis)
                text += String(format: "   $%10.4f   $%10.4f", cost.synchronous, cost.batch)
            }
            return text
        }
        lines.append("task                 requests  completions  prompt tokens  completion tokens"
                     + (price == nil ? "" : "   synchronous     Batch API"))
        for task in estimate.byTask.keys.sorted() { lines.append(row(task, estimate.byTask[task]!)) }
        lines.append(row("total", estimate.total))
        lines.append("")
        if estimate.calibrationSamples > 0 {
            lines.append(String(format: "prompt tokens: our estimate (4 bytes a token) scaled by %.3f, what the server counted for the %d samples this run already answered",
                                estimate.promptScale, estimate.calibrationSamples))
        } else {
            lines.append("prompt tokens: an estimate (4 bytes a token; no earlier answers in this run to calibrate on, and no tokenizer for the model)")
        }
        switch basis {
        case .maxTokens(let tokens): lines.append("completion tokens: --max-tokens \(tokens) per completion (an upper bound)")
        case .earlierAnswers(let mean): lines.append(String(format: "completion tokens: %.0f per completion, the mean of this run's earlier answers", mean))
        case .assumed(let tokens): lines.append("completion tokens: assumed \(tokens) per completion (no --max-tokens, no earlier answers)")
        }
        if let price {
            lines.append(String(format: "price: $%.2f / $%.2f per million prompt / completion tokens (%@); the Batch API costs half",
                                price.inputPerMillion, price.outputPerMillion, model))
        } else {
            lines.append("price: none known for \(model) (a local server costs nothing; pass --price-input/--price-output for another)")
        }
        return lines.joined(separator: "\n")
    }
}

struct ReasonMergeCommand: StageMergeCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Check every reasoning chunk finished and merge them into RUN/reasoning.jsonl.")
    static let stage = PipelineStage.reasoning

    @OptionGroup var merge: MergeOptions
}

struct ReasonExportBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-batch",
        abstract: "Write OpenAI Batch API input files (custom_id = sample id) to RUN/batch/ instead of asking live.")

    @OptionGroup var prompt: PromptOptions

    @Option(help: "Seed of the --limit choice (as the live stage's --seed).")
    var seed: UInt64 = 42

    func run() throws {
        let stage = try prompt.stage()
        let (inputs, _) = try prompt.inputs()
        let summary = try BatchFiles.export(stage: stage, inputs: inputs, seed: seed)
        print("reason export-batch: \(summary.requests) requests in \(summary.files.count) file(s), \(summary.skipped) samples skipped")
        for file in summary.files { print(file) }
    }
}

struct ReasonImportBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-batch",
        abstract: "Read OpenAI Batch API output (and error) files into RUN/reasoning.jsonl, the same records the live stage writes.")

    @Option(name: .customLong("run"), help: "Run folder (after `reason export-batch`).")
    var runFolder: String

    @Option(help: "Completions asked per prompt at export (a sample with fewer is partial).")
    var n = 3

    @Argument(help: "Batch output and error JSONL files.")
    var files: [String]

    func run() throws {
        let run = try RunFolder(runFolder)
        let summary = try BatchFiles.importResults(files, run: run, wanted: n)
        var manifest = try RunManifest(directory: run.path)
        var entry = RunManifest.Stage(status: "complete")
        entry.started = manifest.stage("reasoning")?.started ?? RunManifest.now()
        entry.finished = RunManifest.now()
        entry.configuration = [("source", .string("batch")), ("files", .array(files.map { .string(($0 as NSString).lastPathComponent) }))]
        try entry.recordInputs(of: .reasoning, in: run)
        try entry.recordOutputs(PipelineStage.reasoning.outputs, in: run)
        entry.counts = .object([("imported", .integer(Int64(summary.imported))), ("ok", .integer(Int64(summary.ok))),
                                ("partial", .integer(Int64(summary.partial))), ("failed", .integer(Int64(summary.failed))),
                                ("kept", .integer(Int64(summary.kept))), ("unknown_ids", .integer(Int64(summary.unknown))),
                                ("prompt_tokens", .integer(Int64(summary.usage.promptTokens))),
                                ("completion_tokens", .integer(Int64(summary.usage.completionTokens)))])
        manifest.set("reasoning", entry)
        try manifest.save()
        print("""
            reason import-batch: \(summary.imported) results (\(summary.ok) ok, \(summary.partial) partial, \(summary.failed) failed), \
            \(summary.kept) earlier records kept, \(summary.unknown) unknown ids -> \(run.merged("reasoning"))
            """)
    }
}

struct ReasonTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Print a shipped prompt template, to copy and edit.")

    @Argument(help: "with-knowledge, without-knowledge, without-format or deepicd.")
    var name: String

    func run() throws {
        print(try PromptTemplate.shippedText(name), terminator: "")
    }
}

extension OutputConstraint: ExpressibleByArgument {}
