import Foundation
import Testing
import TGSupport
@testable import LLM

/// The transport's thread and transfers end when they should: a transport
/// let go stops its thread, `shutdown()` waits for it without blocking a
/// thread, and a cancelled caller gets its answer at once, not after the
/// request's timeout.
@Suite struct TransportLifecycleTests {
    /// A loopback socket that takes connections (the kernel completes them
    /// in its backlog) and never answers: a request to it waits until its
    /// timeout.
    final class SilentListener: Sendable {
        let descriptor: Int32
        let port: Int

        init() throws {
            let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) } }
            guard bound == 0, listen(listening, 16) == 0 else {
                close(listening)
                throw POSIXError(.EADDRINUSE)
            }
            descriptor = listening
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(descriptor) }

        func request(timeout: Double) -> HTTPRequest {
            HTTPRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions", body: Array("{}".utf8), timeout: timeout)
        }
    }

    /// The names of this process's threads.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// The transport's failure, if it failed.
    static func failure(_ result: Result<HTTPResponse, TransportError>) -> TransportError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    static func uniqueName() -> String { "tg-t\(UInt32.random(in: 0..<1_000_000_000))" }

    @Test func aTransportLetGoEndsItsThread() async throws {
        let name = Self.uniqueName()
        var transport: CurlTransport? = CurlTransport(threadName: name)
        #expect(await Self.eventually { Self.threadNames().contains(name) })
        // A transfer in flight ends first (here by its timeout).
        let listener = try SilentListener()
        let result = await transport!.send(listener.request(timeout: 0.3))
        guard case .failure(.timeout) = result else { Issue.record("expected a timeout, got \(result)"); return }
        transport = nil
        #expect(await Self.eventually { !Self.threadNames().contains(name) })
    }

    @Test func shutdownWaitsForTheThreadAndRefusesLaterRequests() async throws {
        let name = Self.uniqueName()
        let transport = CurlTransport(threadName: name)
        #expect(await Self.eventually { Self.threadNames().contains(name) })
        await transport.shutdown()
        #expect(await Self.eventually(2) { !Self.threadNames().contains(name) })
        let listener = try SilentListener()
        let late = await transport.send(listener.request(timeout: 5))
        #expect(Self.failure(late) == .other("transport shut down"))
        // A second shutdown returns at once.
        await transport.shutdown()
    }

    @Test func cancellingTheCallerDropsItsTransferAtOnce() async throws {
        let transport = CurlTransport(threadName: Self.uniqueName())
        let listener = try SilentListener()
        // Answered `.cancelled`, not `.timeout`: it did not wait the 120 s.
        let waiting = Task { await transport.send(listener.request(timeout: 120)) }
        try await Task.sleep(for: .milliseconds(300))
        waiting.cancel()
        let result = await waiting.value
        #expect(Self.failure(result) == .cancelled)
        // Cancelled before it was sent: answered without a transfer.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await transport.send(listener.request(timeout: 60))
        }
        #expect(Self.failure(await early.value) == .cancelled)
        // The transport still works for others.
        let other = await transport.send(listener.request(timeout: 0.2))
        guard case .failure(.timeout) = other else { Issue.record("expected a timeout, got \(other)"); return }
        await transport.shutdown()
    }

    @Test func aCancelledClientStopsRetryingAndSaysSo() async throws {
        // Nothing listens on the port: every attempt fails to connect, and
        // the back-off between attempts is long.
        let port = try SilentListener().port
        var settings = ClientSettings()
        settings.backoff = Backoff(base: 30, maximum: 60, maxAttempts: 6)
        settings.timeout = 5
        let client = ChatClient(endpoint: Endpoint(provider: .local, baseURL: "http://127.0.0.1:\(port)/v1"), settings: settings)
        let request = ChatRequest(messages: [ChatMessage(role: "user", content: "hello")], parameters: ChatParameters(model: "m"))
        // `.cancelled` after one attempt: a client that slept through its
        // back-off would try again and end `.exhausted`.
        let asking = Task { await client.complete(request, baseSeed: 1) }
        try await Task.sleep(for: .milliseconds(500))
        asking.cancel()
        let outcome = await asking.value
        #expect(outcome.failure == .cancelled)
        #expect(outcome.choices.isEmpty)
        #expect(outcome.attempts == 1)
        await client.shutdown()
    }
}
