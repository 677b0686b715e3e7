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

/// Why no response arrived. All of these are worth another attempt.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request ran past its timeout.
    case timeout(String)
    /// The connection could not be made, or broke (reset, closed early).
    case connection(String)
    /// Anything else libcurl reported.
    case other(String)

    public var description: String {
        switch self {
        case .timeout(let message): return "timeout: \(message)"
        case .connection(let message): return "connection failed: \(message)"
        case .other(let message): return "transfer failed: \(message)"
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
public final class CurlTransport: @unchecked Sendable {
    /// Guards `incoming` and `stopping`; the event-loop thread owns the rest.
    private let lock = NSLock()
    private var incoming: [Transfer] = []
    private var stopping = false
    private let multi: UnsafeMutableRawPointer
    private let finished = DispatchSemaphore(value: 0)

    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// `maxConnections` caps open connections (0: no cap, libcurl queues
    /// transfers beyond it).
    public init(maxConnections: Int = 0) {
        _ = Self.globalInit
        multi = curl_multi_init()!
        if maxConnections > 0 {
            _ = tg_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        }
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "thinkgraph-http"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Stops the event loop after the transfers in flight end. Call once,
    /// when no more requests will be sent.
    public func shutdown() {
        lock.lock()
        stopping = true
        lock.unlock()
        curl_multi_wakeup(multi)
        finished.wait()
    }

    public func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
        await withCheckedContinuation { continuation in
            let transfer = Transfer(request: request, continuation: continuation)
            lock.lock()
            let refused = stopping
            if !refused { incoming.append(transfer) }
            lock.unlock()
            if refused {
                continuation.resume(returning: .failure(.other("transport shut down")))
            } else {
                curl_multi_wakeup(multi)
            }
        }
    }

    // MARK: - Event loop

    private func loop() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            lock.lock()
            let new = incoming
            incoming.removeAll(keepingCapacity: true)
            let stop = stopping
            lock.unlock()
            for transfer in new {
                if let easy = transfer.makeHandle() {
                    active[easy] = transfer
                    curl_multi_add_handle(multi, easy)
                } else {
                    transfer.complete(.failure(.other("could not create a transfer")))
                }
            }
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
        finished.signal()
    }
}

/// One request in flight: its buffers and the caller waiting for it.
private final class Transfer {
    let request: HTTPRequest
    let continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var headerList: UnsafeMutablePointer<curl_slist>?
    var payload: UnsafeMutablePointer<UInt8>?
    var handle: UnsafeMutableRawPointer?
    var completed = false

    init(request: HTTPRequest, continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>) {
        self.request = request
        self.continuation = continuation
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

    func complete(_ result: Result<HTTPResponse, TransportError>) {
        guard !completed else { return }
        completed = true
        continuation.resume(returning: result)
    }
}
