import TGSupport

/// US dollars per million tokens, for the cost estimate printed at the end
/// of a run. List prices change: pass your own with --price-input and
/// --price-output; unknown models (local servers) cost nothing.
public struct Price: Equatable, Sendable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    /// OpenAI's list prices (standard tier, checked November 2026 against
    /// the public pricing page); the Batch API costs half.
    public static let known: [String: Price] = [
        "gpt-4o": Price(inputPerMillion: 2.50, outputPerMillion: 10.00),
        "gpt-4o-mini": Price(inputPerMillion: 0.15, outputPerMillion: 0.60),
        "gpt-4.1": Price(inputPerMillion: 2.00, outputPerMillion: 8.00),
        "gpt-4.1-mini": Price(inputPerMillion: 0.40, outputPerMillion: 1.60),
        "gpt-4-turbo": Price(inputPerMillion: 10.00, outputPerMillion: 30.00),
    ]

    /// The price of a model name, matching dated snapshots
    /// ("gpt-4o-2024-08-06") by their longest known prefix.
    public static func of(model: String) -> Price? {
        let name = model.lowercased()
        return known.keys.filter { name == $0 || name.hasPrefix($0 + "-") }.max { $0.count < $1.count }.flatMap { known[$0] }
    }

    public func cost(_ usage: TokenUsage, batch: Bool = false) -> Double {
        let full = Double(usage.promptTokens) * inputPerMillion / 1e6 + Double(usage.completionTokens) * outputPerMillion / 1e6
        return batch ? full / 2 : full
    }
}
