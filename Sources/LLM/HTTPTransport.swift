import CCurl
import Foundation

/// One HTTP request, as the chat client sends it.
public struct HTTPRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Whole-transfer limit in seconds (connect, send, wait, receive).
    public var timeout: Double

    public init(url: String, headers: [(String, String)] = [], body: [UInt8], timeout: Double) {
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete HTTP response (any status).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased, in arrival order.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let key = name.lowercased()
        return headers.last { $0.0 == key }?.1
    }
}

/// Why no response arrived. All but `cancelled` are worth another attempt.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request ran past its timeout.
    case timeout(String)
    /// The connection could not be made, or broke (reset, closed early).
    case connection(String)
    /// Anything else libcurl reported.
    case other(String)
    /// The waiting task was cancelled; the transfer was dropped. The one
    /// case not worth another attempt.
    case cancelled

    public var description: String {
        switch self {
        case .timeout(let message): return "timeout: \(message)"
        case .connection(let message): return "connection failed: \(message)"
        case .other(let message): return "transfer failed: \(message)"
        case .cancelled: return "cancelled"
        }
    }
}

/// Sends HTTP requests through libcurl's multi interface: one thread
/// drives every transfer in flight, so hundreds of concurrent requests cost
/// one thread and a few sockets, and connections are reused across
/// requests (keep-alive). Callers `await` a response from any task.
///
/// Why libcurl directly rather than FoundationNetworking's URLSession
/// (which wraps the same library): control of timeouts, connection reuse
/// and redirects (never followed, so patient text cannot be sent on to a
/// host that was not allowed), one event loop instead of a dispatch queue
/// per session, and no Foundation delegate machinery per request.
public final class CurlTransport: Sendable {
    private let loop: EventLoop

    /// `maxConnections` caps open connections (0: no cap, libcurl queues
    /// transfers beyond it). `threadName` (15 bytes at most) names the
    /// event loop's thread, as `ps` and the tests see it.
    public init(maxConnections: Int = 0, threadName: String = "thinkgraph-http") {
        loop = EventLoop(maxConnections: maxConnections)
        // The thread holds the event loop, never the transport: a transport
        // nobody holds any more is deinitialised, which stops the loop.
        let thread = Thread { [loop] in
            // Foundation's `Thread.name` does not reach the system on Linux.
            tg_name_this_thread(threadName)
            loop.run()
        }
        thread.start()
    }

    /// A transport let go without `shutdown()` still stops its thread (and
    /// frees libcurl's state) once the transfers in flight end.
    deinit { loop.stop() }

    /// Stops the event loop after the transfers in flight end, and returns
    /// when its thread has ended; later requests fail at once. Suspends the
    /// caller, never blocks a thread of the cooperative pool.
    public func shutdown() async {
        await withCheckedContinuation { continuation in loop.stop(then: continuation) }
    }

    /// Sends a request and waits for its response. Cancelling the waiting
    /// task removes the transfer from libcurl at once and returns
    /// `.cancelled` (a request cut short is not retried).
    public func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
        let transfer = Transfer(request: request)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.attach(continuation)
                if Task.isCancelled {
                    transfer.complete(.failure(.cancelled))
                } else if !loop.submit(transfer) {
                    transfer.complete(.failure(.other("transport shut down")))
                }
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }
}

/// libcurl's multi handle and the transfers given to it: the state of the
/// one thread that drives them. Other threads only queue work (new
/// transfers, cancellations, a stop) under the lock and wake the thread.
private final class EventLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var incoming: [Transfer] = []
    /// Held (not only named) until the loop has seen them, so that no new
    /// transfer can take a cancelled one's address meanwhile.
    private var cancelled: [Transfer] = []
    private var stopping = false
    private var ended = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private let multi: UnsafeMutableRawPointer

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    init(maxConnections: Int) {
        _ = Self.globalInit
        multi = curl_multi_init()!
        if maxConnections > 0 {
            _ = tg_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        }
    }

    /// Queues a transfer; false once the loop is stopping.
    func submit(_ transfer: Transfer) -> Bool {
        lock.lock()
        let accepted = !stopping
        if accepted { incoming.append(transfer) }
        lock.unlock()
        if accepted { curl_multi_wakeup(multi) }
        return accepted
    }

    func cancel(_ transfer: Transfer) {
        lock.lock()
        let running = !ended
        if running { cancelled.append(transfer) }
        lock.unlock()
        if running { curl_multi_wakeup(multi) } else { transfer.complete(.failure(.cancelled)) }
    }

    /// Asks the loop to end once nothing is in flight; `continuation`
    /// resumes when it has ended (at once if it already has).
    func stop(then continuation: CheckedContinuation<Void, Never>? = nil) {
        lock.lock()
        stopping = true
        let done = ended
        if let continuation, !done { waiting.append(continuation) }
        // The multi handle is freed by the thread when it ends: wake it
        // only while it runs.
        if !done { curl_multi_wakeup(multi) }
        lock.unlock()
        if done { continuation?.resume() }
    }

    func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            lock.lock()
            let new = incoming
            incoming.removeAll(keepingCapacity: true)
            let cancelledNow = cancelled
            cancelled.removeAll()
            let cancel = Set(cancelledNow.map(ObjectIdentifier.init))
            let stop = stopping
            lock.unlock()
            for transfer in new {
                if cancel.contains(ObjectIdentifier(transfer)) {
                    transfer.complete(.failure(.cancelled))
                } else if let easy = transfer.makeHandle() {
                    active[easy] = transfer
                    curl_multi_add_handle(multi, easy)
                } else {
                    transfer.complete(.failure(.other("could not create a transfer")))
                }
            }
            if !cancel.isEmpty {
                for (easy, transfer) in active where cancel.contains(ObjectIdentifier(transfer)) {
                    curl_multi_remove_handle(multi, easy)
                    active.removeValue(forKey: easy)
                    transfer.complete(.failure(.cancelled))
                }
            }
            withExtendedLifetime(cancelledNow) {}
            if stop && active.isEmpty { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                if let transfer = active.removeValue(forKey: easy) {
                    transfer.finish(code: code, handle: easy)
                }
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        // Under the lock: `stop` wakes the handle only before `ended` is set.
        lock.lock()
        ended = true
        let left = incoming, waiters = waiting
        incoming.removeAll()
        waiting.removeAll()
        curl_multi_cleanup(multi)
        lock.unlock()
        for transfer in left { transfer.complete(.failure(.other("transport shut down"))) }
        for waiter in waiters { waiter.resume() }
    }
}

/// One request in flight: its buffers and the caller waiting for it.
private final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    /// The waiting caller, resumed exactly once; a result that comes
    /// before the caller is attached (a cancellation) waits for it.
    private var continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>?
    private var early: Result<HTTPResponse, TransportError>?
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var headerList: UnsafeMutablePointer<curl_slist>?
    var payload: UnsafeMutablePointer<UInt8>?
    var handle: UnsafeMutableRawPointer?
    /// Completion may race between the loop thread and a cancelling task.
    private let completion = NSLock()
    private var completed = false

    init(request: HTTPRequest) {
        self.request = request
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        payload?.deallocate()
        if let handle { curl_easy_cleanup(handle) }
    }

    func makeHandle() -> UnsafeMutableRawPointer? {
        guard let easy = curl_easy_init() else { return nil }
        handle = easy
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = request.url.withCString { tg_easy_setopt_pointer(easy, CURLOPT_URL, $0) }  // libcurl copies strings
        // Only HTTP(S); never follow a redirect to somewhere else.
        _ = "http,https".withCString { tg_easy_setopt_pointer(easy, CURLOPT_PROTOCOLS_STR, $0) }
        _ = tg_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        _ = tg_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = tg_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout * 1000)))
        _ = tg_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(request.timeout, 30) * 1000)))
        _ = tg_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        // Loopback never goes through a proxy from the environment.
        let bypass = ["localhost", "127.0.0.1", "::1"] + (ProcessInfo.processInfo.environment["NO_PROXY"]
            ?? ProcessInfo.processInfo.environment["no_proxy"] ?? "").split(separator: ",").map(String.init)
        _ = bypass.joined(separator: ",").withCString { tg_easy_setopt_pointer(easy, CURLOPT_NOPROXY, $0) }

        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, request.body.count))
        request.body.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { bytes.update(from: base, count: source.count) }
        }
        payload = bytes
        _ = tg_easy_setopt_long(easy, CURLOPT_POST, 1)
        _ = tg_easy_setopt_size(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        _ = tg_easy_setopt_pointer(easy, CURLOPT_POSTFIELDS, bytes)

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers + [("Expect", "")] {
            list = "\(name): \(value)".withCString { curl_slist_append(list, $0) }
        }
        headerList = list
        _ = tg_easy_setopt_pointer(easy, CURLOPT_HTTPHEADER, list)

        _ = tg_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        _ = tg_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = tg_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let line = data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            }
            if line.hasPrefix("HTTP/") {
                transfer.headers.removeAll()  // a new response (after 100 Continue)
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                transfer.headers.append((name, value))
            }
            return length
        }
        _ = tg_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        return easy
    }

    func finish(code: CURLcode, handle easy: UnsafeMutableRawPointer) {
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_OPERATION_TIMEDOUT:
                complete(.failure(.timeout(message)))
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_RECV_ERROR,
                 CURLE_SEND_ERROR, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR:
                complete(.failure(.connection(message)))
            default:
                complete(.failure(.other(message)))
            }
            return
        }
        var status = 0
        _ = tg_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        complete(.success(HTTPResponse(status: status, headers: headers, body: body)))
    }

    func attach(_ caller: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>) {
        completion.lock()
        let ready = early
        if ready == nil { continuation = caller }
        completion.unlock()
        if let ready { caller.resume(returning: ready) }
    }

    func complete(_ result: Result<HTTPResponse, TransportError>) {
        completion.lock()
        let first = !completed
        completed = true
        let waiting = continuation
        continuation = nil
        if first && waiting == nil { early = result }
        completion.unlock()
        if first { waiting?.resume(returning: result) }
    }
}
