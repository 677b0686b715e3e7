/// Runs queries against one index with reusable buffers: one searcher per
/// thread, as many as wanted on one shared index.
///
/// Retrieval is SimString's CPMerge: for each candidate size in the range the
/// measure allows, the query's posting lists for that size are sorted by
/// length; candidates are collected from the `q - τ + 1` shortest lists (a
/// string sharing τ of the q features must appear in one of them), then
/// checked against the remaining lists, dropping those that can no longer
/// reach τ. Accepted candidates are still counted in every list, so each
/// result carries its exact overlap and similarity. A searcher keeps one
/// 4-byte counter per string of the most common size.
public struct SimStringSearcher {
    public let index: SimStringIndex
    private var extractor: FeatureExtractor
    private var cursors: [Int] = []
    private var cursorEnds: [Int] = []
    private var lists: [UnsafeBufferPointer<UInt32>] = []
    private var weights: [(postings: Int, slot: Int)] = []
    private var sortKeys: [UInt64] = []
    private var sortedLists: [UnsafeBufferPointer<UInt32>] = []
    private var candidates: [Candidate] = []
    /// Overlap counters for one size's id range and the offsets with a
    /// non-zero count.
    private let scratch = MergeScratch()

    struct Candidate {
        /// Internal id (strings numbered by size).
        var id: UInt32
        var count: UInt32
    }

    public init(index: SimStringIndex) {
        self.index = index
        extractor = FeatureExtractor(settings: index.settings)
    }

    public mutating func search(_ query: String, measure: SimilarityMeasure, threshold: Double,
                                arithmetic: ThresholdArithmetic = .exact) throws -> [SimStringMatch] {
        var query = query
        return try query.withUTF8 { try search(bytes: $0, measure: measure, threshold: threshold, arithmetic: arithmetic) }
    }

    /// Retrieves the matches of `query`. With `similarities: false` a
    /// candidate is accepted as soon as it shares enough features, without
    /// counting the rest, and every match reports the threshold as its
    /// similarity (a lower bound): faster when only the strings matter, as
    /// for the command-line tool.
    public mutating func search(bytes query: UnsafeBufferPointer<UInt8>, measure: SimilarityMeasure, threshold: Double,
                                arithmetic: ThresholdArithmetic = .exact,
                                similarities: Bool = true) throws -> [SimStringMatch] {
        guard threshold > 0, threshold <= 1 else {
            throw SimStringError("threshold must be in (0, 1], got \(threshold)")
        }
        extractor.extract(query)
        let q = extractor.count
        let bounds = RetrievalBounds(measure: measure, threshold: threshold, arithmetic: arithmetic)
        guard let sizes = bounds.sizeRange(querySize: q, maxSize: index.maxSize) else { return [] }

        // Each present feature's run of directory entries within the size range.
        cursors.removeAll(keepingCapacity: true)
        cursorEnds.removeAll(keepingCapacity: true)
        extractor.units.withUnsafeBufferPointer { units in
            for feature in 0..<q {
                let start = Int(extractor.starts[feature])
                guard let id = index.featureID(units: units.baseAddress! + start, occurrence: extractor.occurrences[feature])
                else { continue }
                let entries = index.entries(ofFeature: id)
                var low = entries.lowerBound, high = entries.upperBound
                while low < high {
                    let middle = (low + high) / 2
                    if index.entrySize(middle) < sizes.lowerBound { low = middle + 1 } else { high = middle }
                }
                cursors.append(low)
                cursorEnds.append(entries.upperBound)
            }
        }
        // CPMerge is correct for any order of the lists; it is fastest when
        // the initial ones are short. Ordering the features once by their
        // postings within the size range keeps each size's lists close to
        // ascending length without sorting them per size.
        orderByFrequency()

        var results: [SimStringMatch] = []
        while true {
            // The next size any feature has strings of.
            var size = Int.max
            for slot in cursors.indices where cursors[slot] < cursorEnds[slot] {
                size = min(size, index.entrySize(cursors[slot]))
            }
            guard size <= sizes.upperBound else { break }
            lists.removeAll(keepingCapacity: true)
            for slot in cursors.indices where cursors[slot] < cursorEnds[slot] && index.entrySize(cursors[slot]) == size {
                lists.append(index.postings(ofEntry: cursors[slot]))
                cursors[slot] += 1
            }
            guard let needed = bounds.minimumOverlap(querySize: q, candidateSize: size), lists.count >= needed else {
                continue
            }
            merge(needed: needed, queryFeatureCount: q, size: size, countAccepted: similarities)
            for candidate in candidates where Int(candidate.count) >= needed {
                results.append(SimStringMatch(
                    id: index.externalID(candidate.id),
                    similarity: similarities
                        ? measure.similarity(overlap: Int(candidate.count), querySize: q, candidateSize: size)
                        : threshold))
            }
        }
        return results
    }

    private mutating func orderByFrequency() {
        weights.removeAll(keepingCapacity: true)
        for slot in cursors.indices {
            let first = cursors[slot], end = cursorEnds[slot]
            let postings = first < end ? index.postingOffset(ofEntry: end) - index.postingOffset(ofEntry: first) : 0
            weights.append((postings, slot))
        }
        weights.sort { $0.postings < $1.postings }
        let (oldCursors, oldEnds) = (cursors, cursorEnds)
        for (position, weight) in weights.enumerated() {
            cursors[position] = oldCursors[weight.slot]
            cursorEnds[position] = oldEnds[weight.slot]
        }
    }

    /// CPMerge over `lists` (the non-empty posting lists of one size); leaves
    /// the surviving candidates, with their overlap counts, in `candidates`,
    /// ascending by id.
    ///
    /// Candidates of the initial lists are counted in a dense counter over
    /// the size's id range (ids are dense, so this replaces the C++ code's
    /// repeated sorted-list merges with one pass over the postings); each
    /// remaining list is then either scanned (when it is short next to the
    /// candidate set) or probed by binary search per candidate, dropping
    /// candidates that can no longer reach the bound.
    private mutating func merge(needed: Int, queryFeatureCount q: Int, size: Int, countAccepted: Bool) {
        sortShortestFirst()
        // Absent features count as empty lists at the front.
        let absent = q - lists.count
        let initialLists = max(0, q - needed + 1 - absent)
        // Counters cover only this size's internal ids: [base, base + span).
        let (base, span) = index.sizeBucket(size)
        scratch.reserve(index.largestSizeBucket)
        let counters = scratch.counters, touched = scratch.touched
        var touchedCount = 0
        candidates.removeAll(keepingCapacity: true)
        for list in lists.prefix(initialLists) {
            // Ids outside the size's range can only come from a damaged file:
            // skipped.
            for id in list {
                let offset = id &- base
                guard offset < span else { continue }
                if counters[Int(offset)] == 0 {
                    touched[touchedCount] = offset
                    touchedCount &+= 1
                }
                counters[Int(offset)] &+= 1
            }
        }
        var remaining = lists.count - initialLists
        for list in lists.dropFirst(initialLists) {
            remaining -= 1
            if touchedCount == 0 { break }
            // A binary search costs about log2(n) dependent, cache-missing
            // steps, a scan one predictable step per posting: scan unless the
            // candidates are few next to the list (the factor 8 was the best
            // of 1, 2, 4, 8, 16 and 32 on the default lexicon's strings).
            let probeCost = touchedCount * (Int.bitWidth - list.count.leadingZeroBitCount) * 8
            if list.count <= probeCost {
                for id in list {
                    let offset = id &- base
                    if offset < span, counters[Int(offset)] != 0 { counters[Int(offset)] &+= 1 }
                }
            } else {
                for position in 0..<touchedCount where Self.contains(list, base &+ touched[position]) {
                    counters[Int(touched[position])] &+= 1
                }
            }
            // Drop candidates that can no longer reach the bound, and settle
            // accepted ones early unless their overlap is wanted.
            var kept = 0
            for position in 0..<touchedCount {
                let offset = touched[position]
                let count = Int(counters[Int(offset)])
                if !countAccepted, count >= needed {
                    candidates.append(Candidate(id: base &+ offset, count: UInt32(count)))
                    counters[Int(offset)] = 0
                } else if count + remaining >= needed {
                    touched[kept] = offset
                    kept &+= 1
                } else {
                    counters[Int(offset)] = 0
                }
            }
            touchedCount = kept
        }
        for position in 0..<touchedCount {
            let offset = touched[position]
            candidates.append(Candidate(id: base &+ offset, count: counters[Int(offset)]))
            counters[Int(offset)] = 0
        }
        candidates.sort { $0.id < $1.id }
    }

    /// Orders `lists` shortest first. They arrive almost in order (see
    /// `orderByFrequency`), so an insertion sort over packed (length,
    /// position) keys costs little more than one pass.
    private mutating func sortShortestFirst() {
        var sorted = true
        for position in lists.indices.dropFirst() where lists[position - 1].count > lists[position].count {
            sorted = false
            break
        }
        if sorted { return }
        sortKeys.removeAll(keepingCapacity: true)
        for (position, list) in lists.enumerated() { sortKeys.append(UInt64(list.count) << 32 | UInt64(position)) }
        sortKeys.withUnsafeMutableBufferPointer { keys in
            for position in 1..<max(1, keys.count) {
                let key = keys[position]
                var slot = position
                while slot > 0, keys[slot - 1] > key {
                    keys[slot] = keys[slot - 1]
                    slot -= 1
                }
                keys[slot] = key
            }
        }
        sortedLists.removeAll(keepingCapacity: true)
        for key in sortKeys { sortedLists.append(lists[Int(truncatingIfNeeded: key & 0xFFFF_FFFF)]) }
        swap(&lists, &sortedLists)
    }

    @inline(__always)
    private static func contains(_ list: UnsafeBufferPointer<UInt32>, _ value: UInt32) -> Bool {
        // Branch-free lower bound: the comparison becomes a conditional move,
        // so probes cost no mispredicted branches.
        var remaining = list.count
        guard remaining > 0 else { return false }
        var base = 0
        while remaining > 1 {
            let half = remaining &>> 1
            // All ones when list[base + half] <= value, else zero: computed
            // with arithmetic, since the compiler emits a branch for `?:`.
            let probe = UInt64(list[base &+ half])
            let above = Int(truncatingIfNeeded: (UInt64(value) &- probe) >> 63)
            base &+= half & (above &- 1)
            remaining &-= half
        }
        return list[base] == value
    }
}

/// Raw buffers for CPMerge: writing through pointers avoids the uniqueness
/// checks of array writes in the innermost loops. Counters are kept zeroed
/// between uses. One per searcher, never shared.
final class MergeScratch {
    private(set) var counters = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    private(set) var touched = UnsafeMutablePointer<UInt32>.allocate(capacity: 0)
    private var capacity = 0

    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        counters.deallocate()
        touched.deallocate()
        counters = .allocate(capacity: needed)
        counters.initialize(repeating: 0, count: needed)
        touched = .allocate(capacity: needed)
        capacity = needed
    }

    deinit {
        counters.deallocate()
        touched.deallocate()
    }
}
