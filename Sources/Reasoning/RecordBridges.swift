import LLM
import Runtime

// The reasoning record (Runtime) keeps its own completion and usage types,
// since Runtime sits below the LLM client; these are the one place the two
// sides convert.

extension ReasoningRecord.Completion {
    init(_ choice: ChatChoice) {
        self.init(text: choice.text, finishReason: choice.finishReason, seed: choice.seed)
    }
}

extension ReasoningRecord.Usage {
    init(_ usage: TokenUsage) {
        self.init(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, requests: usage.requests)
    }
}

extension TokenUsage {
    init(_ usage: ReasoningRecord.Usage) {
        self.init(promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, requests: usage.requests)
    }
}
