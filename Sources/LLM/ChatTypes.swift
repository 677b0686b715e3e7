import TGSupport

public struct ChatMessage: Equatable, Sendable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public var json: JSONValue { .object([("role", .string(role)), ("content", .string(content))]) }
}

/// Sampling settings of a request; nil means the server's default.
public struct ChatParameters: Equatable, Sendable {
    public var model: String
    public var temperature: Double?
    public var topP: Double?
    /// Completions wanted per prompt. Servers that refuse n > 1 (llama.cpp)
    /// get n requests with distinct seeds instead.
    public var n: Int
    public var maxTokens: Int?
    public var seed: Int64?
    public var stop: [String]
    /// A GBNF grammar the completion must follow (llama.cpp's `grammar`
    /// field; a server that does not take it answers 400).
    public var grammar: String?

    public init(model: String, temperature: Double? = nil, topP: Double? = nil, n: Int = 1, maxTokens: Int? = nil,
                seed: Int64? = nil, stop: [String] = [], grammar: String? = nil) {
        self.grammar = grammar
        self.model = model
        self.temperature = temperature
        self.topP = topP
        self.n = n
        self.maxTokens = maxTokens
        self.seed = seed
        self.stop = stop
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("model", .string(model))]
        if let temperature { members.append(("temperature", .number(temperature))) }
        if let topP { members.append(("top_p", .number(topP))) }
        members.append(("n", .integer(Int64(n))))
        if let maxTokens { members.append(("max_tokens", .integer(Int64(maxTokens)))) }
        if let seed { members.append(("seed", .integer(seed))) }
        if !stop.isEmpty { members.append(("stop", .array(stop.map { .string($0) }))) }
        if let grammar { members.append(("grammar", .string(grammar))) }
        return .object(members)
    }
}

/// The body of one chat completions request.
public struct ChatRequest: Sendable {
    public var messages: [ChatMessage]
    public var parameters: ChatParameters

    public init(messages: [ChatMessage], parameters: ChatParameters) {
        self.messages = messages
        self.parameters = parameters
    }

    /// The JSON body, for `n` completions with `seed` (overriding the
    /// parameters' own; fan-out requests differ only there).
    public func body(n: Int? = nil, seed: Int64? = nil) -> JSONValue {
        var parameters = self.parameters
        if let n { parameters.n = n }
        if let seed { parameters.seed = seed }
        guard case .object(var members) = parameters.json else { return .null }
        members.insert(("messages", .array(messages.map(\.json))), at: 1)
        return .object(members)
    }

    /// A rough count of prompt tokens (4 bytes a token), for budgets
    /// before the server has counted.
    public var estimatedPromptTokens: Int { messages.reduce(0) { $0 + ($1.content.utf8.count + 3) / 4 + 4 } }
}

public struct ChatChoice: Equatable, Sendable {
    public var text: String
    /// "stop", "length", "content_filter", ... as the server said.
    public var finishReason: String
    /// The seed of the request that produced it, when the client set one.
    public var seed: Int64?

    public init(text: String, finishReason: String, seed: Int64? = nil) {
        self.text = text
        self.finishReason = finishReason
        self.seed = seed
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("text", .string(text)), ("finish_reason", .string(finishReason))]
        if let seed { members.append(("seed", .integer(seed))) }
        return .object(members)
    }
}

public struct TokenUsage: Equatable, Sendable {
    public var promptTokens = 0
    public var completionTokens = 0
    public var requests = 0

    public init(promptTokens: Int = 0, completionTokens: Int = 0, requests: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.requests = requests
    }

    /// The usage a record holds (`usage` as `json` writes it, or as the
    /// OpenAI API returns it); `requests` defaults to `defaultRequests`
    /// when absent.
    public init(json value: JSONValue?, defaultRequests: Int = 0) {
        promptTokens = Int(value?["prompt_tokens"]?.doubleValue ?? 0)
        completionTokens = Int(value?["completion_tokens"]?.doubleValue ?? 0)
        requests = value?["requests"]?.doubleValue.map { Int($0) } ?? (value == nil ? 0 : defaultRequests)
    }

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(promptTokens: lhs.promptTokens + rhs.promptTokens, completionTokens: lhs.completionTokens + rhs.completionTokens,
                   requests: lhs.requests + rhs.requests)
    }

    public var json: JSONValue {
        .object([("prompt_tokens", .integer(Int64(promptTokens))), ("completion_tokens", .integer(Int64(completionTokens))),
                 ("requests", .integer(Int64(requests)))])
    }
}

/// Why a request gave no completions.
public enum ChatFailure: Equatable, Sendable {
    /// The prompt does not fit the model's context; retrying it unchanged
    /// would fail again (and cost again). Token counts when the server said.
    case contextTooLong(promptTokens: Int?, contextSize: Int?, message: String)
    /// A refusal no retry changes (bad request, auth, quota, content policy).
    case rejected(status: Int, message: String)
    /// Every attempt failed; the last error.
    case exhausted(attempts: Int, lastError: String)
    /// The caller's task was cancelled (an interrupt): nothing more was
    /// asked, and the prompt is to be asked again by a later run.
    case cancelled

    public var kind: String {
        switch self {
        case .contextTooLong: return "context_too_long"
        case .rejected: return "rejected"
        case .exhausted: return "exhausted"
        case .cancelled: return "cancelled"
        }
    }

    public var message: String {
        switch self {
        case .contextTooLong(let prompt, let context, let message):
            return "prompt too long for the model's context" + (prompt.map { " (\($0) tokens" } ?? "")
                + (context.map { " > \($0))" } ?? (prompt == nil ? "" : ")")) + ": " + message
        case .rejected(let status, let message): return "HTTP \(status): \(message)"
        case .exhausted(let attempts, let last): return "gave up after \(attempts) attempts: \(last)"
        case .cancelled: return "cancelled before an answer came"
        }
    }
}

/// Everything that happened for one prompt.
public struct ChatOutcome: Sendable {
    public var choices: [ChatChoice] = []
    public var usage = TokenUsage()
    /// HTTP attempts made, retries and fan-out included.
    public var attempts = 0
    /// Set when fewer than n completions came back.
    public var failure: ChatFailure?
    public var seconds = 0.0

    public init() {}
}
