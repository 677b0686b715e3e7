import Dispatch

/// One timed pass of a search over a list of pairs, for `evidence bench`:
/// each pair's time, what it found, and a digest of every path, so that
/// two builds, or two adjacency sources, can be seen to find the same paths.
public struct SearchRound: Sendable {
    /// Milliseconds per pair, in pair order.
    public private(set) var times: [Double] = []
    /// Each pair's path length, or nil.
    public private(set) var hops: [Int?] = []
    /// FNV-1a over every path's nodes and labels (and a separator per pair).
    public private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325
    public private(set) var explored = 0
    /// Pairs answered from the connected components without exploring.
    public private(set) var disconnected = 0

    public var total: Double { times.reduce(0, +) }
    public var pairsPerSecond: Double { Double(times.count) / (total / 1000) }
    /// The time below which `fraction` of the pairs took.
    public func percentile(_ fraction: Double) -> Double {
        let sorted = times.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    mutating func record(_ result: PathSearch.Result, nanoseconds: UInt64) {
        times.append(Double(nanoseconds) / 1e6)
        hops.append(result.path?.hops)
        explored += result.explored
        if result.disconnected { disconnected += 1 }
        mix(-1)
        if let path = result.path { (path.nodes + path.labels).forEach { mix($0) } }
    }

    private mutating func mix(_ value: Int) { digest = (digest ^ UInt64(bitPattern: Int64(value))) &* 0x100_0000_01b3 }
}

extension PathSearch {
    /// Times the search as the evidence stage runs it (mapped graph,
    /// component check) over `pairs`.
    public func timedRound(_ pairs: [(Int, Int)], workspace: SearchWorkspace) -> SearchRound {
        timedRound(pairs) { search(from: $0, to: $1, workspace: workspace) }
    }

    /// Times the breadth-first search over another adjacency source.
    public func timedRound<Source: Adjacency>(_ pairs: [(Int, Int)], in source: Source, workspace: SearchWorkspace) -> SearchRound {
        timedRound(pairs) { search(from: $0, to: $1, in: source, workspace: workspace) }
    }

    private func timedRound(_ pairs: [(Int, Int)], _ searchPair: (Int, Int) -> Result) -> SearchRound {
        var round = SearchRound()
        for (a, b) in pairs {
            let start = DispatchTime.now().uptimeNanoseconds
            let result = searchPair(a, b)
            round.record(result, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        }
        return round
    }
}
