import Foundation

/// The set-similarity measures SimString retrieves by. Sizes are feature-set
/// sizes: `q` of the query, `r` of an indexed string, `m` their overlap.
public enum SimilarityMeasure: String, Sendable, CaseIterable, Codable {
    case exact, dice, cosine, jaccard, overlap

    /// The similarity of two feature sets with sizes `q`, `r` and overlap `m`.
    /// This is the definition retrieval is exact against.
    @inlinable
    public func similarity(overlap m: Int, querySize q: Int, candidateSize r: Int) -> Double {
        switch self {
        case .exact: return (q == r && m == q) ? 1 : 0
        case .dice: return 2 * Double(m) / Double(q + r)
        case .cosine: return Double(m) / (Double(q) * Double(r)).squareRoot()
        case .jaccard: return Double(m) / Double(q + r - m)
        case .overlap: return Double(m) / Double(min(q, r))
        }
    }
}

/// How the overlap a candidate needs is computed.
public enum ThresholdArithmetic: String, Sendable, Codable {
    /// The smallest overlap whose similarity, computed as in
    /// `SimilarityMeasure.similarity`, reaches the threshold: results equal a
    /// brute-force scan.
    case exact
    /// The C++ SimString formulas, floating-point rounding included (e.g.
    /// jaccard `ceil(α(q+r)/(1+α))`, which for α = 0.7, q + r = 17 asks for 8
    /// shared features where 7 give exactly 0.7). For byte-for-byte parity
    /// with the `simstring` command.
    case simstring
}

/// Size ranges and overlap bounds for one query.
struct RetrievalBounds: Equatable {
    let measure: SimilarityMeasure
    let threshold: Double
    let arithmetic: ThresholdArithmetic

    /// Candidate sizes to visit, clipped to `1...maxSize`.
    func sizeRange(querySize q: Int, maxSize: Int) -> ClosedRange<Int>? {
        guard maxSize >= 1 else { return nil }
        let alpha = threshold
        let qd = Double(q)
        var low: Int, high: Int
        switch arithmetic {
        case .simstring:
            switch measure {
            case .exact: (low, high) = (q, q)
            // The C++ code divides by (2 - q) here; kept for parity. A lower
            // bound that is too low only costs time, never results.
            case .dice: (low, high) = (cppInt((alpha * qd / (2 - qd)).rounded(.up)), cppInt(((2 - alpha) * qd / alpha).rounded(.down)))
            case .cosine: (low, high) = (cppInt((alpha * alpha * qd).rounded(.up)), cppInt((qd / (alpha * alpha)).rounded(.down)))
            case .jaccard: (low, high) = (cppInt((alpha * qd).rounded(.up)), cppInt((qd / alpha).rounded(.down)))
            case .overlap: (low, high) = (1, Int.max)
            }
        case .exact:
            // Generous bounds from the formulas, then tightened by asking
            // whether any overlap can reach the threshold at each end.
            switch measure {
            case .exact: (low, high) = (q, q)
            case .dice: (low, high) = (clampedInt(alpha * qd / (2 - alpha)) - 1, clampedInt((2 - alpha) * qd / alpha) + 2)
            case .cosine: (low, high) = (clampedInt(alpha * alpha * qd) - 1, clampedInt(qd / (alpha * alpha)) + 2)
            case .jaccard: (low, high) = (clampedInt(alpha * qd) - 1, clampedInt(qd / alpha) + 2)
            case .overlap: (low, high) = (1, Int.max)
            }
            low = max(low, 1)
            high = min(high, maxSize)
            while low <= high, minimumOverlap(querySize: q, candidateSize: low) == nil { low += 1 }
            while high >= low, minimumOverlap(querySize: q, candidateSize: high) == nil { high -= 1 }
        }
        low = max(low, 1)
        high = min(high, maxSize)
        return low <= high ? low...high : nil
    }

    /// The fewest shared features a candidate of size `r` needs, or nil if
    /// none suffices.
    func minimumOverlap(querySize q: Int, candidateSize r: Int) -> Int? {
        let most = min(q, r)
        switch arithmetic {
        case .simstring:
            let alpha = threshold, qd = Double(q), rd = Double(r)
            let needed: Int
            switch measure {
            case .exact: needed = q
            case .dice: needed = cppInt((0.5 * alpha * (qd + rd)).rounded(.up))
            case .cosine: needed = cppInt((alpha * (qd * rd).squareRoot()).rounded(.up))
            case .jaccard: needed = cppInt((alpha * (qd + rd) / (1 + alpha)).rounded(.up))
            case .overlap: needed = cppInt((alpha * Double(most)).rounded(.up))
            }
            return needed <= most ? max(needed, 1) : nil
        case .exact:
            if measure == .exact { return q == r ? q : nil }
            guard measure.similarity(overlap: most, querySize: q, candidateSize: r) >= threshold else { return nil }
            // Similarity grows with the overlap: binary search the smallest.
            var low = 1, high = most
            while low < high {
                let middle = (low + high) / 2
                if measure.similarity(overlap: middle, querySize: q, candidateSize: r) >= threshold {
                    high = middle
                } else {
                    low = middle + 1
                }
            }
            return low
        }
    }
}

/// `RetrievalBounds` remembered for small query and candidate sizes: a
/// searcher asks for the same few dozen sizes again and again (the matcher,
/// tens of thousands of queries with one measure and threshold), and each
/// answer under exact arithmetic is a binary search over similarities.
struct RetrievalBoundsMemo {
    static let sizes = 128
    private(set) var bounds: RetrievalBounds?
    /// The largest candidate size, part of what a size range depends on.
    private var maxSize = 0
    /// Per query size: the candidate size range (low, high; 0 for none,
    /// -1 not yet known).
    private var ranges = [Int32](repeating: -1, count: 2 * sizes)
    /// Per (query size, candidate size): the fewest shared features (0 for
    /// none, -1 not yet known).
    private var overlaps = [Int16](repeating: -1, count: sizes * sizes)

    /// Starts remembering for `bounds` over candidates of at most
    /// `maxSize` features (forgetting what was remembered for others).
    mutating func use(_ bounds: RetrievalBounds, maxSize: Int) {
        guard self.bounds != bounds || self.maxSize != maxSize else { return }
        self.bounds = bounds
        self.maxSize = maxSize
        for index in ranges.indices { ranges[index] = -1 }
        for index in overlaps.indices { overlaps[index] = -1 }
    }

    mutating func sizeRange(querySize q: Int) -> ClosedRange<Int>? {
        guard let bounds else { preconditionFailure("use(_:) first") }
        guard q < Self.sizes, maxSize < Int(Int32.max) else { return bounds.sizeRange(querySize: q, maxSize: maxSize) }
        if ranges[2 * q] < 0 {
            let range = bounds.sizeRange(querySize: q, maxSize: maxSize)
            ranges[2 * q] = Int32(range?.lowerBound ?? 0)
            ranges[2 * q + 1] = Int32(range?.upperBound ?? 0)
        }
        let low = Int(ranges[2 * q]), high = Int(ranges[2 * q + 1])
        return low > 0 ? low...high : nil
    }

    mutating func minimumOverlap(querySize q: Int, candidateSize r: Int) -> Int? {
        guard let bounds else { preconditionFailure("use(_:) first") }
        guard q < Self.sizes, r < Self.sizes, r >= 0 else { return bounds.minimumOverlap(querySize: q, candidateSize: r) }
        let slot = q * Self.sizes + r
        if overlaps[slot] < 0 { overlaps[slot] = Int16(bounds.minimumOverlap(querySize: q, candidateSize: r) ?? 0) }
        let needed = Int(overlaps[slot])
        return needed > 0 ? needed : nil
    }
}

/// C++'s `(int)` of a double as x86-64 computes it: values outside the int
/// range, infinities and NaN become INT_MIN (the "integer indefinite"). The
/// C++ dice lower bound divides by `2 - q`, which is zero for two-feature
/// queries.
@inline(__always)
func cppInt(_ value: Double) -> Int {
    guard value.isFinite, value >= Double(Int32.min), value <= Double(Int32.max) else { return Int(Int32.min) }
    return Int(value)
}

/// The integer part of a non-negative bound, saturating instead of trapping
/// (a threshold of 1e-300 makes `q / α` infinite).
@inline(__always)
func clampedInt(_ value: Double) -> Int {
    guard value.isFinite else { return value < 0 ? 0 : Int.max / 4 }
    return Int(max(0, min(value, Double(Int.max / 4))))
}
