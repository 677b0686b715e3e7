import Foundation
import LLM
import Runtime
import TGSupport

/// What asking about a chunk's samples will take and cost, before anything
/// is sent (`reason --dry-run`): requests, completions and prompt tokens per
/// task, the completion tokens to expect, and the price.
///
/// Prompt tokens are our estimate (4 bytes a token) unless the run already
/// holds answers to some of the same samples: then the estimate is scaled
/// by what the server counted for those (its tokenizer, not ours), and the
/// expected completion length is theirs too.
public struct CostEstimate: Sendable {
    public struct Line: Sendable, Equatable {
        public var requests = 0, completions = 0
        /// Our estimate, before calibration.
        public var estimatedPromptTokens = 0
    }

    public var byTask: [String: Line] = [:]
    /// Samples of this estimate the run already has answers to, with what
    /// the server counted for them and what we estimated.
    public var calibrationSamples = 0
    public var calibrationServerPromptTokens = 0
    public var calibrationEstimatedPromptTokens = 0
    public var calibrationCompletions = 0
    public var calibrationCompletionTokens = 0

    public init() {}

    public var total: Line {
        byTask.values.reduce(into: Line()) {
            $0.requests += $1.requests
            $0.completions += $1.completions
            $0.estimatedPromptTokens += $1.estimatedPromptTokens
        }
    }

    /// Server tokens per estimated token (1 without earlier answers).
    public var promptScale: Double {
        calibrationEstimatedPromptTokens > 0 ? Double(calibrationServerPromptTokens) / Double(calibrationEstimatedPromptTokens) : 1
    }

    public func promptTokens(_ line: Line) -> Int { Int((Double(line.estimatedPromptTokens) * promptScale).rounded()) }

    /// Where the expected completion length comes from.
    public enum CompletionBasis: Sendable, Equatable {
        case maxTokens(Int)
        case earlierAnswers(Double)
        case assumed(Int)

        public var perCompletion: Double {
            switch self {
            case .maxTokens(let tokens), .assumed(let tokens): return Double(tokens)
            case .earlierAnswers(let mean): return mean
            }
        }
    }

    /// `--max-tokens` first (an upper bound), else the mean of the run's
    /// earlier completions, else `assumed` tokens.
    public func completionBasis(maxTokens: Int?, assumed: Int = 600) -> CompletionBasis {
        if let maxTokens { return .maxTokens(maxTokens) }
        if calibrationCompletions > 0 { return .earlierAnswers(Double(calibrationCompletionTokens) / Double(calibrationCompletions)) }
        return .assumed(assumed)
    }

    /// The price of `line` at `price`: synchronous and through the Batch API.
    public func cost(_ line: Line, price: Price, basis: CompletionBasis) -> (synchronous: Double, batch: Double) {
        let usage = TokenUsage(promptTokens: promptTokens(line),
                               completionTokens: Int((Double(line.completions) * basis.perCompletion).rounded()), requests: line.requests)
        return (price.cost(usage), price.cost(usage, batch: true))
    }

    /// Counts one request about a sample of `task`; `earlier` is the run's
    /// record of the same sample, when it was answered before.
    mutating func add(task: String, request: ChatRequest, completions: Int, earlier: ReasoningRecord.Asked?) {
        var line = byTask[task] ?? Line()
        line.requests += 1
        line.completions += completions
        line.estimatedPromptTokens += request.estimatedPromptTokens
        byTask[task] = line
        if let earlier, earlier.usage.requests > 0, earlier.usage.promptTokens > 0 {
            calibrationSamples += 1
            // Per request: a fan-out pays the prompt once per request.
            calibrationServerPromptTokens += earlier.usage.promptTokens / earlier.usage.requests
            calibrationEstimatedPromptTokens += request.estimatedPromptTokens
            countCompletions(of: earlier)
        }
    }

    /// Takes an earlier answer's completions into the expected completion
    /// length (`completionBasis`).
    public mutating func countCompletions(of earlier: ReasoningRecord.Asked) {
        calibrationCompletions += earlier.completions.count
        calibrationCompletionTokens += earlier.usage.completionTokens
    }

    public var json: JSONValue {
        func line(_ line: Line) -> JSONValue {
            .object([("requests", .integer(Int64(line.requests))), ("completions", .integer(Int64(line.completions))),
                     ("prompt_tokens", .integer(Int64(promptTokens(line))))])
        }
        return .object([("tasks", .object(byTask.keys.sorted().map { ($0, line(byTask[$0]!)) })), ("total", line(total)),
                        ("calibration_samples", .integer(Int64(calibrationSamples))),
                        ("prompt_scale", .number((promptScale * 1000).rounded() / 1000))])
    }
}

/// A spending limit for a live run (`reason --budget`): no request is sent
/// whose estimated cost, added to what was spent and what is in flight,
/// would exceed it.
public struct SpendingLimit: Sendable {
    public var dollars: Double
    public var price: Price
    /// Completion tokens expected per completion.
    public var completionTokens: Double

    public init(dollars: Double, price: Price, completionTokens: Double) {
        self.dollars = dollars
        self.price = price
        self.completionTokens = completionTokens
    }

    func estimate(_ request: ChatRequest, completions: Int) -> Double {
        price.cost(TokenUsage(promptTokens: request.estimatedPromptTokens,
                              completionTokens: Int(completionTokens * Double(completions)), requests: 1))
    }
}

/// The run stopped before the budget would have been exceeded.
public struct BudgetReached: Error, CustomStringConvertible {
    public var spent: Double
    public var budget: Double
    public var unasked: Int
    public var description: String {
        String(format: "stopped at the budget: $%.4f spent of $%.2f; %d samples not asked (run again with a larger --budget to go on)",
               spent, budget, unasked)
    }
}
