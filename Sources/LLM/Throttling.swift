import Foundation

/// A token bucket that hands out reservations: taking more than is there
/// succeeds at once and returns how long the taker must wait, so waiters
/// are served in arrival order without polling.
public struct TokenBucket: Sendable {
    public let capacity: Double
    public let perSecond: Double
    private var level: Double
    private var updated: Double

    /// A budget of `perMinute` units a minute, of which up to a minute's
    /// worth may be spent at once (OpenAI's limits are per minute).
    public init(perMinute: Double, now: Double) {
        capacity = perMinute
        perSecond = perMinute / 60
        level = perMinute
        updated = now
    }

    /// Takes `amount` (at most the capacity) and returns the seconds to
    /// wait before using it.
    public mutating func reserve(_ amount: Double, now: Double) -> Double {
        level = min(capacity, level + (now - updated) * perSecond)
        updated = now
        level -= min(amount, capacity)
        return level >= 0 ? 0 : -level / perSecond
    }

    /// Gives back what a reservation over-estimated (or takes what it
    /// under-estimated, as a negative amount).
    public mutating func refund(_ amount: Double) {
        level = min(capacity, level + amount)
    }
}

/// Requests-per-minute and tokens-per-minute budgets shared by every
/// request of a client.
public actor RateBudget {
    private var requests: TokenBucket?
    private var tokens: TokenBucket?
    private let clock: @Sendable () -> Double

    public init(requestsPerMinute: Double?, tokensPerMinute: Double?,
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        let now = clock()
        requests = requestsPerMinute.map { TokenBucket(perMinute: $0, now: now) }
        tokens = tokensPerMinute.map { TokenBucket(perMinute: $0, now: now) }
        self.clock = clock
    }

    /// Reserves one request and `estimatedTokens`; returns the seconds to
    /// wait before sending.
    public func reserve(estimatedTokens: Int) -> Double {
        let now = clock()
        let a = requests?.reserve(1, now: now) ?? 0
        let b = tokens?.reserve(Double(estimatedTokens), now: now) ?? 0
        return max(a, b)
    }

    /// Settles a reservation once the server counted the real tokens.
    public func settle(estimatedTokens: Int, actualTokens: Int) {
        tokens?.refund(Double(estimatedTokens - actualTokens))
    }
}

/// Caps the requests in flight. Waiters are resumed in arrival order.
public actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(_ count: Int) { available = max(1, count) }

    public func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Exponential back-off with jitter, honouring the server's Retry-After.
public struct Backoff: Sendable {
    /// The first pause, in seconds.
    public var base: Double
    /// The longest pause.
    public var maximum: Double
    /// Attempts per request, the first included.
    public var maxAttempts: Int

    public init(base: Double = 1, maximum: Double = 60, maxAttempts: Int = 6) {
        self.base = base
        self.maximum = maximum
        self.maxAttempts = maxAttempts
    }

    /// The pause after failed attempt `attempt` (1-based): "equal jitter",
    /// between half and all of base·2^(attempt−1), capped; never shorter
    /// than what the server asked for.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: Double) -> Double {
        let exponential = min(maximum, base * pow(2, Double(max(0, attempt - 1))))
        let jittered = exponential * (0.5 + 0.5 * random)
        guard let retryAfter else { return jittered }
        // A small spread so clients told the same moment don't return together.
        return min(max(retryAfter, 0) + base * 0.1 * random, max(maximum, retryAfter))
    }
}
