import Foundation
import TGSupport

/// What one HTTP attempt means for the client.
public enum AttemptResult: Equatable, Sendable {
    case success(choices: [ChatChoice], usage: TokenUsage)
    /// Worth another attempt after a pause (at least `retryAfter` seconds
    /// when the server said so).
    case retry(reason: String, retryAfter: Double?)
    /// The server does not do n > 1: fan out instead.
    case manyChoicesUnsupported
    /// Give up on this prompt.
    case failed(ChatFailure)
}

/// Reads chat completion responses of OpenAI, Azure OpenAI, vLLM, Ollama
/// and llama.cpp's server, whose error bodies differ in detail (llama.cpp's
/// `code` is the HTTP status as a number, OpenAI's a string).
public enum ResponseClassifier {
    public static func classify(_ result: Result<HTTPResponse, TransportError>, redactor: Redactor) -> AttemptResult {
        let response: HTTPResponse
        switch result {
        case .failure(.cancelled): return .failed(.cancelled)
        case .failure(let error): return .retry(reason: redactor.redact(error.description), retryAfter: nil)
        case .success(let value): response = value
        }
        let retryAfter = retryDelay(response)
        let parsed = try? JSONValue.parse(response.body)
        let error = parsed?["error"]
        let message = redactor.redact(errorMessage(error) ?? snippet(response.body))

        switch response.status {
        case 200..<300:
            guard let parsed else {
                return .retry(reason: "HTTP \(response.status) with a body that is not JSON: \(redactor.redact(snippet(response.body)))",
                              retryAfter: nil)
            }
            if let error, error != .null { return classifyError(status: 200, error: error, message: message, retryAfter: retryAfter) }
            guard let choices = parsed["choices"]?.arrayValue, !choices.isEmpty else {
                return .retry(reason: "HTTP \(response.status) without choices", retryAfter: nil)
            }
            var result: [ChatChoice] = []
            for choice in choices {
                let finish = choice["finish_reason"]?.stringValue ?? "unknown"
                let content = choice["message"]?["content"]?.stringValue ?? ""
                if content.isEmpty && finish != "content_filter" && finish != "length" {
                    return .retry(reason: "a choice without content (finish_reason \(finish))", retryAfter: nil)
                }
                result.append(ChatChoice(text: content, finishReason: finish))
            }
            let usage = parsed["usage"]
            return .success(choices: result, usage: TokenUsage(
                promptTokens: Int(usage?["prompt_tokens"]?.doubleValue ?? 0),
                completionTokens: Int(usage?["completion_tokens"]?.doubleValue ?? 0), requests: 1))
        case 408, 409, 425, 429, 500..<600:
            if response.status == 429, let code = errorCode(error), code == "insufficient_quota" || code == "billing_hard_limit_reached" {
                return .failed(.rejected(status: 429, message: message))
            }
            return .retry(reason: "HTTP \(response.status): \(message)", retryAfter: retryAfter)
        default:
            return classifyError(status: response.status, error: error, message: message, retryAfter: retryAfter)
        }
    }

    static func classifyError(status: Int, error: JSONValue?, message: String, retryAfter: Double?) -> AttemptResult {
        let type = error?["type"]?.stringValue ?? ""
        let code = errorCode(error) ?? ""
        let lowered = message.lowercased()
        if type == "exceed_context_size_error" || code == "context_length_exceeded"
            || lowered.contains("maximum context length") || lowered.contains("exceeds the available context size") {
            return .failed(.contextTooLong(promptTokens: (error?["n_prompt_tokens"]?.doubleValue).map { Int($0) },
                                           contextSize: (error?["n_ctx"]?.doubleValue).map { Int($0) }, message: message))
        }
        if error?["param"]?.stringValue == "n" || lowered.contains("field 'n'")
            || lowered.contains("n must be 1") || lowered.contains("only one completion choice") {
            return .manyChoicesUnsupported
        }
        if status == 200 {
            // An error object inside a 200: a server-side hiccup.
            return .retry(reason: "error in a 200 response: \(message)", retryAfter: retryAfter)
        }
        return .failed(.rejected(status: status, message: message))
    }

    /// Seconds to wait from `retry-after-ms` (OpenAI), `Retry-After` as
    /// seconds or as an HTTP date.
    public static func retryDelay(_ response: HTTPResponse, now: Date = Date()) -> Double? {
        if let text = response.header("retry-after-ms"), let milliseconds = Double(text), milliseconds >= 0 {
            return milliseconds / 1000
        }
        guard let text = response.header("retry-after") else { return nil }
        if let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    static func errorCode(_ error: JSONValue?) -> String? {
        switch error?["code"] {
        case .string(let code)?: return code
        case .integer(let code)?: return String(code)
        case .number(let code)?: return String(Int(code))
        default: return nil
        }
    }

    static func errorMessage(_ error: JSONValue?) -> String? {
        guard let error, error != .null else { return nil }
        if let text = error.stringValue { return text }
        return error["message"]?.stringValue
    }

    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? "(empty body)" : text
    }
}
