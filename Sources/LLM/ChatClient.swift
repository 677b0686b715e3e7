import Foundation
import Synchronization
import TGSupport

/// How a client talks to its endpoint.
public struct ClientSettings: Sendable {
    /// Requests in flight at most (fan-out requests count one each).
    public var concurrency = 16
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    public var backoff = Backoff()
    /// Seconds a request may take, start to end.
    public var timeout: Double = 120

    public init() {}
}

/// An OpenAI-compatible chat completions client: concurrency cap, rate
/// budgets, retries with back-off, and n > 1 done by fan-out where the
/// server refuses it. Safe to use from many tasks at once.
public final class ChatClient: Sendable {
    public let endpoint: Endpoint
    public let settings: ClientSettings
    private let transport: CurlTransport
    private let slots: AsyncSemaphore
    private let budget: RateBudget
    private let redactor: Redactor
    /// nil until a server refused (false) or honoured (true) n > 1.
    private let manyChoices = Mutex<Bool?>(nil)
    private let random = Mutex(SystemRandomNumberGenerator())
    private let ownsTransport: Bool

    public init(endpoint: Endpoint, settings: ClientSettings, transport: CurlTransport? = nil) {
        self.endpoint = endpoint
        self.settings = settings
        self.transport = transport ?? CurlTransport()
        ownsTransport = transport == nil
        slots = AsyncSemaphore(settings.concurrency)
        budget = RateBudget(requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute)
        redactor = Redactor(secrets: endpoint.key.map { [$0] } ?? [])
    }

    /// Ends the transport's event loop (when the client made it) once its
    /// transfers are done. A client let go without it ends the loop too.
    public func shutdown() async {
        if ownsTransport { await transport.shutdown() }
    }

    /// The HTTP request of a body, exactly as it would be sent.
    public func httpRequest(body: JSONValue) -> HTTPRequest {
        var bytes: [UInt8] = []
        body.write(into: &bytes)
        return HTTPRequest(url: endpoint.chatURL, headers: endpoint.headers, body: bytes, timeout: settings.timeout)
    }

    /// Asks for `request.parameters.n` completions. Fewer come back only
    /// when attempts ran out or the server refused; `failure` says why.
    /// `baseSeed` seeds fan-out requests (seed + i) when the request has no
    /// seed of its own, so a re-run asks the same questions.
    public func complete(_ request: ChatRequest, baseSeed: Int64) async -> ChatOutcome {
        let started = ProcessInfo.processInfo.systemUptime
        var outcome = ChatOutcome()
        let wanted = max(1, request.parameters.n)
        let seed = request.parameters.seed ?? baseSeed

        if wanted == 1 || manyChoices.withLock({ $0 }) != false {
            let single = await attempt(request, body: request.body(n: wanted, seed: request.parameters.seed), seed: nil)
            outcome.attempts += single.attempts
            switch single.result {
            case .success(let choices, let usage):
                if wanted > 1 { manyChoices.withLock { $0 = choices.count >= wanted ? true : $0 } }
                outcome.choices = Array(choices.prefix(wanted))
                outcome.usage = outcome.usage + usage
            case .manyChoicesUnsupported:
                manyChoices.withLock { $0 = false }
            case .failed(let failure):
                outcome.failure = failure
                outcome.seconds = ProcessInfo.processInfo.systemUptime - started
                return outcome
            case .retry:
                break
            }
        }
        // Fan out what is still missing, one request per completion, each
        // with its own seed.
        let missing = wanted - outcome.choices.count
        if missing > 0 {
            let offset = outcome.choices.count
            let results = await withTaskGroup(of: (Int, Attempted).self) { group in
                for index in 0..<missing {
                    let choiceSeed = seed &+ Int64(offset + index)
                    group.addTask {
                        (index, await self.attempt(request, body: request.body(n: 1, seed: choiceSeed), seed: choiceSeed))
                    }
                }
                var collected: [(Int, Attempted)] = []
                for await item in group { collected.append(item) }
                return collected.sorted { $0.0 < $1.0 }.map(\.1)
            }
            for result in results {
                outcome.attempts += result.attempts
                switch result.result {
                case .success(let choices, let usage):
                    outcome.choices.append(contentsOf: choices.prefix(1))
                    outcome.usage = outcome.usage + usage
                case .failed(let failure):
                    outcome.failure = outcome.failure ?? failure
                case .manyChoicesUnsupported:
                    outcome.failure = outcome.failure ?? .rejected(status: 400, message: "the server refused a single completion")
                case .retry(let reason, _):
                    outcome.failure = outcome.failure ?? .exhausted(attempts: result.attempts, lastError: reason)
                }
            }
        }
        outcome.seconds = ProcessInfo.processInfo.systemUptime - started
        return outcome
    }

    struct Attempted: Sendable {
        var result: AttemptResult
        var attempts: Int
    }

    /// One logical request with its retries. Returns a success, a failure,
    /// `manyChoicesUnsupported`, or the last `.retry` when attempts ran out.
    private func attempt(_ request: ChatRequest, body: JSONValue, seed: Int64?) async -> Attempted {
        let http = httpRequest(body: body)
        let estimate = request.estimatedPromptTokens + (request.parameters.maxTokens ?? 512) * max(1, body["n"].flatMap { Int($0.doubleValue ?? 1) } ?? 1)
        var attempts = 0
        // Cancellation ends the attempts: a sleep cut short or a transfer
        // dropped is never taken for a failure worth retrying.
        func cancelled() -> Attempted { Attempted(result: .failed(.cancelled), attempts: attempts) }
        while true {
            if Task.isCancelled { return cancelled() }
            attempts += 1
            let wait = await budget.reserve(estimatedTokens: estimate)
            if wait > 0 {
                do { try await Task.sleep(for: .seconds(wait)) } catch { return cancelled() }
            }
            await slots.acquire()
            let response = await transport.send(http)
            await slots.release()
            var result = ResponseClassifier.classify(response, redactor: redactor)
            switch result {
            case .success(var choices, let usage):
                await budget.settle(estimatedTokens: estimate, actualTokens: usage.promptTokens + usage.completionTokens)
                if let seed { choices = choices.map { var choice = $0; choice.seed = seed; return choice } }
                result = .success(choices: choices, usage: usage)
                return Attempted(result: result, attempts: attempts)
            case .retry(let reason, let retryAfter):
                guard attempts < settings.backoff.maxAttempts else {
                    return Attempted(result: .failed(.exhausted(attempts: attempts, lastError: reason)), attempts: attempts)
                }
                let jitter = random.withLock { Double.random(in: 0...1, using: &$0) }
                let pause = settings.backoff.delay(afterAttempt: attempts, retryAfter: retryAfter, random: jitter)
                do { try await Task.sleep(for: .seconds(pause)) } catch { return cancelled() }
            case .manyChoicesUnsupported, .failed:
                return Attempted(result: result, attempts: attempts)
            }
        }
    }
}
