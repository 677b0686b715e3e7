import Foundation
import Testing
import TGSupport
@testable import LLM

@Suite struct ResponseClassifierTests {
    let redactor = Redactor(secrets: [Secret("sk-test-abcdef123456")])

    func response(_ status: Int, _ body: String, headers: [(String, String)] = []) -> Result<HTTPResponse, TransportError> {
        .success(HTTPResponse(status: status, headers: headers, body: Array(body.utf8)))
    }

    @Test func successCarriesChoicesAndUsage() {
        let body = #"{"choices":[{"finish_reason":"stop","message":{"content":"A"}},{"finish_reason":"length","message":{"content":"B"}}],"usage":{"prompt_tokens":10,"completion_tokens":7}}"#
        #expect(ResponseClassifier.classify(response(200, body), redactor: redactor) == .success(
            choices: [ChatChoice(text: "A", finishReason: "stop"), ChatChoice(text: "B", finishReason: "length")],
            usage: TokenUsage(promptTokens: 10, completionTokens: 7, requests: 1)))
    }

    @Test func contextTooLongIsNeverRetriedInBothDialects() {
        let llama = #"{"error":{"code":400,"message":"request (3032 tokens) exceeds the available context size (2048 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":3032,"n_ctx":2048}}"#
        guard case .failed(.contextTooLong(3032, 2048, _)) = ResponseClassifier.classify(response(400, llama), redactor: redactor) else {
            Issue.record("llama.cpp's context error not recognised")
            return
        }
        let openai = #"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#
        guard case .failed(.contextTooLong(nil, nil, _)) = ResponseClassifier.classify(response(400, openai), redactor: redactor) else {
            Issue.record("OpenAI's context error not recognised")
            return
        }
    }

    @Test func retriesTransientFailuresAndHonoursRetryAfter() {
        #expect(ResponseClassifier.classify(response(429, "{}", headers: [("retry-after", "7")]), redactor: redactor)
            == .retry(reason: "HTTP 429: {}", retryAfter: 7))
        #expect(ResponseClassifier.classify(response(429, "{}", headers: [("retry-after-ms", "250")]), redactor: redactor)
            == .retry(reason: "HTTP 429: {}", retryAfter: 0.25))
        if case .retry = ResponseClassifier.classify(response(503, "<html>busy</html>"), redactor: redactor) {} else { Issue.record("503") }
        if case .retry = ResponseClassifier.classify(response(200, #"{"choices": [{"mess"#), redactor: redactor) {} else {
            Issue.record("broken JSON must be retried")
        }
        if case .retry = ResponseClassifier.classify(.failure(.timeout("slow")), redactor: redactor) {} else { Issue.record("timeout") }
        let quota = #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#
        if case .failed(.rejected(429, _)) = ResponseClassifier.classify(response(429, quota), redactor: redactor) {} else {
            Issue.record("an exhausted quota is not worth retrying")
        }
        let date = "Wed, 21 Oct 2015 07:28:10 GMT"
        let delay = ResponseClassifier.retryDelay(HTTPResponse(status: 429, headers: [("retry-after", date)], body: []),
                                                  now: Date(timeIntervalSince1970: 1_445_412_480))
        #expect(delay == 10)
    }

    @Test func recognisesServersThatRefuseManyChoices() {
        let body = #"{"error":{"code":400,"message":"Field 'n': Value must be between 1 <= value <= 1, but got 3","type":"invalid_request_error"}}"#
        #expect(ResponseClassifier.classify(response(400, body), redactor: redactor) == .manyChoicesUnsupported)
    }

    @Test func errorsNeverCarryTheKey() {
        let body = #"{"error":{"message":"Incorrect API key provided: sk-test-abcdef123456. Also sk-proj-abc***xyz.","code":"invalid_api_key"}}"#
        guard case .failed(.rejected(401, let message)) = ResponseClassifier.classify(response(401, body), redactor: redactor) else {
            Issue.record("401 must be rejected")
            return
        }
        #expect(!message.contains("abcdef123456") && !message.contains("sk-proj"), "\(message)")
        #expect("\(Secret("sk-live-1"))" == "<redacted>")
    }
}

@Suite struct ThrottlingTests {
    @Test func bucketMakesLateComersWaitInOrder() {
        var bucket = TokenBucket(perMinute: 60, now: 0)  // one a second, a minute's burst
        for _ in 0..<60 { #expect(bucket.reserve(1, now: 0) == 0) }
        #expect(bucket.reserve(1, now: 0) == 1)
        #expect(bucket.reserve(1, now: 0) == 2)
        // Ten seconds refill ten: two repay the debt, seven remain after one more.
        #expect(bucket.reserve(1, now: 10) == 0)
        #expect(bucket.reserve(8, now: 10) == 1)
    }

    @Test func backoffGrowsWithJitterAndRespectsRetryAfter() {
        let backoff = Backoff(base: 1, maximum: 30, maxAttempts: 6)
        #expect(backoff.delay(afterAttempt: 1, retryAfter: nil, random: 0) == 0.5)
        #expect(backoff.delay(afterAttempt: 3, retryAfter: nil, random: 1) == 4)
        #expect(backoff.delay(afterAttempt: 10, retryAfter: nil, random: 1) == 30)
        #expect(backoff.delay(afterAttempt: 1, retryAfter: 12, random: 0) == 12)
        #expect(backoff.delay(afterAttempt: 1, retryAfter: 12, random: 1) >= 12)
    }

    @Test func semaphoreCapsWhatRunsAtOnce() async {
        let semaphore = AsyncSemaphore(3)
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await semaphore.acquire()
                    await counter.enter()
                    try? await Task.sleep(for: .milliseconds(5))
                    await counter.leave()
                    await semaphore.release()
                }
            }
        }
        #expect(await counter.peak == 3)
    }

    actor Counter {
        var now = 0, peak = 0
        func enter() { now += 1; peak = max(peak, now) }
        func leave() { now -= 1 }
    }
}

@Suite struct EndpointTests {
    @Test func urlsAndHeadersPerProvider() {
        let openai = Endpoint(provider: .openai, baseURL: "https://api.openai.com/v1/", key: Secret("k1"))
        #expect(openai.chatURL == "https://api.openai.com/v1/chat/completions")
        #expect(openai.headers.contains { $0 == ("Authorization", "Bearer k1") })
        let azure = Endpoint(provider: .azure, baseURL: "https://team.openai.azure.com", deployment: "gpt4o", apiVersion: "2024-10-21",
                             key: Secret("k2"))
        #expect(azure.chatURL == "https://team.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21")
        #expect(azure.headers.contains { $0 == ("api-key", "k2") } && !azure.headers.contains { $0.0 == "Authorization" })
        let local = Endpoint(provider: .local, baseURL: "http://127.0.0.1:8080/v1")
        #expect(local.headers.count == 1)
    }

    @Test func patientTextGoesOnlyWhereAllowed() throws {
        try Endpoint(provider: .local, baseURL: "http://127.0.0.1:9/v1").checkAllowed([])
        try Endpoint(provider: .local, baseURL: "http://localhost:9/v1").checkAllowed([])
        try Endpoint(provider: .local, baseURL: "http://[::1]:9/v1").checkAllowed([])
        #expect(throws: UsageError.self) { try Endpoint(provider: .openai, baseURL: "https://api.openai.com/v1").checkAllowed([]) }
        #expect(throws: UsageError.self) { try Endpoint(provider: .local, baseURL: "http://127.0.0.1.evil.example/v1").checkAllowed([]) }
        #expect(throws: UsageError.self) { try Endpoint(provider: .local, baseURL: "http://gpu-box:8000/v1").checkAllowed(["gpu-box"]) }
        try Endpoint(provider: .openai, baseURL: "https://api.openai.com/v1").checkAllowed(["api.openai.com"])
        #expect(throws: UsageError.self) { try Endpoint(provider: .azure, baseURL: "https://x.openai.azure.com").checkAllowed(["x.openai.azure.com"]) }
    }

    @Test func pricesMatchDatedSnapshots() {
        #expect(Price.of(model: "gpt-4o-2024-08-06") == Price.known["gpt-4o"])
        #expect(Price.of(model: "gpt-4o-mini") == Price.known["gpt-4o-mini"])
        #expect(Price.of(model: "SmolLM2") == nil)
        #expect(abs(Price.known["gpt-4o"]!.cost(TokenUsage(promptTokens: 1_000_000, completionTokens: 100_000)) - 3.5) < 1e-9)
    }
}
