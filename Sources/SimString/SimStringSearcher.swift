import CPrefetch

/// Runs queries against one index with reusable buffers: one searcher per
/// thread, as many as wanted on one shared index.
///
/// Retrieval is SimString's CPMerge: for each candidate size in the range the
/// measure allows, candidates are collected from the first `q - τ + 1` of
/// the query's posting lists for that size (a string sharing τ of the q
/// features must appear in one of them), then checked against the remaining
/// lists, dropping those that can no longer reach τ. Lists are taken in one
/// order for all sizes, rarest feature first over the whole size range:
/// close to shortest-first for each size, without a sort per size. Once the
/// candidates are few next to the postings still to read, each is verified
/// directly against its own feature ids (the index stores them, see
/// `IndexFormat`). Either way each result carries its exact overlap and
/// similarity. A searcher keeps one 4-byte counter per string of the most
/// common size and one bit per indexed feature.
public struct SimStringSearcher {
    public let index: SimStringIndex
    private var extractor: FeatureExtractor
    /// The query's features present in the size range, rarest first.
    private var runs: [FeatureRun] = []
    /// Their posting lists grouped by size (see `bucketBySize`).
    private var lists: [UnsafeBufferPointer<UInt32>] = []
    private var bucketStarts: [Int] = []
    private var candidates: [Candidate] = []
    /// The query's indexed feature ids (their bits are set in the scratch's
    /// query bitset while a search runs).
    private var queryFeatures: [Int] = []
    /// Overlap counters for one size's id range and the offsets with a
    /// non-zero count.
    private let scratch = MergeScratch()
    private var boundsMemo = RetrievalBoundsMemo()

    /// When candidates are verified against their own feature ids instead
    /// of the remaining posting lists. Tests pin the two extremes so that
    /// both paths are checked on any data.
    enum Verification {
        case whenCheaper, always, never
    }
    var verification = Verification.whenCheaper

    /// A feature's directory entries within the size range.
    struct FeatureRun {
        var postings: Int
        var first: Int
        var end: Int
    }

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
        boundsMemo.use(RetrievalBounds(measure: measure, threshold: threshold, arithmetic: arithmetic), maxSize: index.maxSize)
        guard let sizes = boundsMemo.sizeRange(querySize: q) else { return [] }

        // Each present feature's run of directory entries within the size range.
        runs.removeAll(keepingCapacity: true)
        queryFeatures.removeAll(keepingCapacity: true)
        scratch.reserveMarks(features: index.featureCount)
        let marks = scratch.queryMarks
        defer { for feature in queryFeatures { marks[feature >> 6] = 0 } }
        extractor.units.withUnsafeBufferPointer { units in
            for feature in 0..<q {
                let start = Int(extractor.starts[feature])
                guard let id = index.featureID(units: units.baseAddress! + start, occurrence: extractor.occurrences[feature])
                else { continue }
                queryFeatures.append(id)
                marks[id >> 6] |= 1 << UInt64(id & 63)
                let entries = index.entries(ofFeature: id)
                let first = firstEntry(in: entries, atLeast: sizes.lowerBound)
                let end = firstEntry(in: first..<entries.upperBound, atLeast: sizes.upperBound + 1)
                guard first < end else { continue }
                runs.append(FeatureRun(postings: index.postingOffset(ofEntry: end) - index.postingOffset(ofEntry: first),
                                       first: first, end: end))
            }
        }
        // CPMerge is correct for any order of the lists; it is fastest when
        // the initial ones are short. Ordering the features once by their
        // postings within the size range keeps each size's lists close to
        // ascending length without sorting them per size.
        runs.sort { $0.postings < $1.postings }
        bucketBySize(sizes)

        var results: [SimStringMatch] = []
        for bucket in 0..<sizes.count where bucketStarts[bucket] < bucketStarts[bucket + 1] {
            let size = sizes.lowerBound + bucket
            let listCount = bucketStarts[bucket + 1] - bucketStarts[bucket]
            guard let needed = boundsMemo.minimumOverlap(querySize: q, candidateSize: size), listCount >= needed else {
                continue
            }
            merge(lists: bucketStarts[bucket]..<bucketStarts[bucket + 1], needed: needed, queryFeatureCount: q,
                  size: size, countAccepted: similarities)
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

    /// Groups the runs' posting lists by size (a counting sort), each size's
    /// lists in run order: size `sizes.lowerBound + b` owns
    /// `lists[bucketStarts[b]..<bucketStarts[b + 1]]`. One pass over the
    /// entries in range, instead of a look at every feature for every size.
    private mutating func bucketBySize(_ sizes: ClosedRange<Int>) {
        let low = sizes.lowerBound, count = sizes.count
        bucketStarts.removeAll(keepingCapacity: true)
        bucketStarts.append(contentsOf: repeatElement(0, count: count + 1))
        var total = 0
        // Through buffer pointers: element writes to a stored array pay a
        // uniqueness check each, a measurable share of a short query.
        let index = self.index
        runs.withUnsafeBufferPointer { runs in
            bucketStarts.withUnsafeMutableBufferPointer { starts in
                // A size outside the range can only come from a damaged
                // file (entries out of order): skipped.
                for run in runs {
                    for entry in run.first..<run.end {
                        let bucket = index.entrySize(entry) &- low
                        guard bucket >= 0, bucket < count else { continue }
                        starts[bucket &+ 1] &+= 1
                        total &+= 1
                    }
                }
                for bucket in 0..<count { starts[bucket &+ 1] &+= starts[bucket] }
            }
            lists.removeAll(keepingCapacity: true)
            lists.append(contentsOf: repeatElement(UnsafeBufferPointer(start: nil, count: 0), count: total))
            // Fill from each bucket's start; `starts[b]` is advanced to the
            // bucket's end, which is the next bucket's start, then shifted
            // back.
            bucketStarts.withUnsafeMutableBufferPointer { starts in
                lists.withUnsafeMutableBufferPointer { lists in
                    for run in runs {
                        for entry in run.first..<run.end {
                            let bucket = index.entrySize(entry) &- low
                            guard bucket >= 0, bucket < count else { continue }
                            lists[starts[bucket]] = index.postings(ofEntry: entry)
                            starts[bucket] &+= 1
                        }
                    }
                }
                for bucket in stride(from: count, to: 0, by: -1) { starts[bucket] = starts[bucket &- 1] }
                starts[0] = 0
            }
        }
    }

    /// The first entry in `entries` (ascending by size) whose size is at
    /// least `size`.
    /// Small sizes come first and most queries are short, so the search
    /// looks ahead in doubling steps (reading the run's first cache lines)
    /// before halving.
    private func firstEntry(in entries: Range<Int>, atLeast size: Int) -> Int {
        var low = entries.lowerBound, high = entries.upperBound
        var step = 1
        while low + step <= high {
            let probe = low + step - 1
            if index.entrySize(probe) < size {
                low = probe + 1
                step &*= 2
            } else {
                high = probe
                break
            }
        }
        while low < high {
            let middle = (low + high) / 2
            if index.entrySize(middle) < size { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// CPMerge over `lists[range]` (the non-empty posting lists of one size); leaves
    /// the surviving candidates, with their overlap counts, in `candidates`,
    /// ascending by id.
    ///
    /// Candidates of the initial lists are counted in a dense counter over
    /// the size's id range (ids are dense, so this replaces the C++ code's
    /// repeated sorted-list merges with one pass over the postings); each
    /// remaining list is then either scanned (when it is short next to the
    /// candidate set) or probed by binary search per candidate, dropping
    /// candidates that can no longer reach the bound, until verifying the
    /// candidates one by one costs less than the lists left.
    private mutating func merge(lists range: Range<Int>, needed: Int, queryFeatureCount q: Int, size: Int,
                                countAccepted: Bool) {
        let lists = self.lists[range]
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
        var verify = false
        for list in lists.dropFirst(initialLists) {
            if touchedCount == 0 { break }
            // A binary search costs about log2(n) dependent, cache-missing
            // steps, a scan one predictable step per posting: scan unless the
            // candidates are few next to the list (the factor 8 was the best
            // of 1, 2, 4, 8, 16 and 32 on the default lexicon's strings).
            let probeCost = touchedCount * (Int.bitWidth - list.count.leadingZeroBitCount) * 8
            let stepCost = min(list.count, probeCost)
            // Verifying reads `size` ids per candidate; the lists left cost
            // about this step's cost each (fewer as candidates drop out).
            let verifyingIsCheaper = touchedCount * size * Self.verificationCost <= stepCost * remaining
            if verification == .always || (verification == .whenCheaper && verifyingIsCheaper) {
                verify = true
                break
            }
            remaining -= 1
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
        if !verify {
            for position in 0..<touchedCount {
                let offset = touched[position]
                candidates.append(Candidate(id: base &+ offset, count: counters[Int(offset)]))
                counters[Int(offset)] = 0
            }
            candidates.sort { $0.id < $1.id }
            return
        }
        // Few candidates next to the postings left: count each candidate's
        // overlap from its own feature ids, one short contiguous run, each
        // id looked up in the query's feature bitset.
        let run = index.forwardRun(ofSize: size)
        if index.forwardIDWidth == 2 {
            verifyCandidates(run.assumingMemoryBound(to: UInt16.self), touchedCount: touchedCount, size: size, needed: needed, base: base)
        } else {
            verifyCandidates(run.assumingMemoryBound(to: UInt32.self), touchedCount: touchedCount, size: size, needed: needed, base: base)
        }
        candidates.sort { $0.id < $1.id }
    }

    /// Counts each touched candidate's overlap from its own feature ids (the
    /// `size` ids at `run + offset × size`), each looked up in the query's
    /// feature bitset, and keeps those reaching `needed`. Resets their
    /// counters.
    @inline(__always)
    private mutating func verifyCandidates<ID: FixedWidthInteger & UnsignedInteger>(
        _ run: UnsafePointer<ID>, touchedCount: Int, size: Int, needed: Int, base: UInt32
    ) {
        let counters = scratch.counters, touched = scratch.touched
        let marks = scratch.queryMarks, limit = index.featureCount
        let ahead = Self.prefetchDistance
        for position in 0..<min(ahead, touchedCount) { tg_prefetch(run + Int(touched[position]) &* size) }
        for position in 0..<touchedCount {
            if position &+ ahead < touchedCount {
                // Its first two cache lines; the hardware fetches on from there.
                let next = run + Int(touched[position &+ ahead]) &* size
                tg_prefetch(next)
                tg_prefetch(UnsafeRawPointer(next) + 64)
            }
            let offset = touched[position]
            counters[Int(offset)] = 0
            let features = run + Int(offset) &* size
            var overlap = 0
            for k in 0..<size {
                let feature = Int(truncatingIfNeeded: features[k])
                // An id past the table can only come from a damaged file.
                guard feature < limit else { continue }
                overlap &+= Int(truncatingIfNeeded: (marks[feature &>> 6] &>> UInt64(feature & 63)) & 1)
            }
            if overlap >= needed {
                candidates.append(Candidate(id: base &+ offset, count: UInt32(overlap)))
            }
        }
    }

    /// The weight of one verified id against one posting step: 3 to 6 were
    /// equally fast on the default lexicon's strings (1, 2 and 12 slower).
    static let verificationCost = 4

    /// How many candidates ahead verification prefetches: over a 2M-string
    /// index the runs are random reads from hundreds of megabytes, and
    /// without prefetching verification lost to the posting lists there
    /// (8 and 16 were equally good, 0 half as fast).
    static let prefetchDistance = 16

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
    /// One bit per indexed feature, set for the current query's features.
    private(set) var queryMarks = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    private var markWords = 0

    /// Sizes the query bitset for `features` feature ids (all bits clear).
    func reserveMarks(features: Int) {
        let words = (features + 63) / 64
        guard words > markWords else { return }
        queryMarks.deallocate()
        queryMarks = .allocate(capacity: words)
        queryMarks.initialize(repeating: 0, count: words)
        markWords = words
    }

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
        queryMarks.deallocate()
    }
}
