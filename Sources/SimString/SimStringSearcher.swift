import CPrefetch

/// Runs queries against one index with reusable buffers: one searcher per
/// thread, as many as wanted on one shared index.
///
/// Retrieval is prefix filtering on both sides, as in PPJoin: with the
/// features of every string ordered one way (the index numbers them rarest
/// first), a string sharing τ of a query's q features holds one of the
/// query's first q - τ + 1 features among its own first m - τ + 1 (m its
/// feature count): the first shared feature in that order has at least τ - 1
/// shared ones after it on both sides. For each candidate size the query's
/// prefix (features not in the index count first: they are in no string) is
/// read from its posting lists, each list ordered by the
/// feature's rank in the string, so only the front of a list, the strings
/// holding the feature in their own prefix, is read. Each posting carries
/// its string's feature sketch, which rules out most strings found (see
/// `Posting`); the rest are verified against their own feature ids (the
/// index stores them, see `IndexFormat`), each looked up in a bitset of the
/// query's features, and dropped as soon as they have missed more than
/// m - τ. Both prefixes are short
/// for the thresholds QuickUMLS uses (under a third of the features at a
/// Jaccard of 0.7) and made of rare features, so far fewer strings are
/// looked at than by SimString's CPMerge, which reads the query's rarest
/// lists whole and then checks its candidates against the other lists.
/// Every result carries its exact overlap and similarity. A searcher keeps
/// one bit per indexed string and one per indexed feature.
public struct SimStringSearcher {
    public let index: SimStringIndex
    private var extractor: FeatureExtractor
    /// The query's features with entries to read in the size range, rarest
    /// first.
    private var runs: [FeatureRun] = []
    /// Per candidate size in the range, what its retrieval needs.
    private var plans: [SizePlan] = []
    /// The query's indexed feature ids (their bits are set in the scratch's
    /// query bitset while a search runs), ascending: rarest first.
    private var queryFeatures: [Int] = []
    /// The query's sketch (see `sketchBit`).
    private var querySketch: UInt64 = 0
    private let scratch = SearchScratch()
    private var featureCache = FeatureCache()
    private var boundsMemo = RetrievalBoundsMemo()

    /// A feature's directory entries within the size range.
    struct FeatureRun {
        var first: Int
        var end: Int
        /// The feature's place in the query's order.
        var place: Int32
    }

    /// The postings of one entry to read, and their size bucket.
    struct EntryRead {
        var postings: UnsafeBufferPointer<Posting>
        var bucket: Int
    }
    private var reads: [EntryRead] = []

    /// A verified candidate.
    struct Accepted {
        var id: UInt32
        var overlap: UInt32
        var size: UInt32
    }

    /// The retrieval of one candidate size.
    struct SizePlan {
        /// The fewest shared features (τ), 0 when none of this size can match.
        var needed: Int32 = 0
        /// The query's prefix for this size: its features (those not in
        /// the index first, then ascending) at places below this, q - τ + 1.
        var prefixEnd: Int32 = 0
        /// A posting is read when the feature's rank in its string is below
        /// this (m - τ + 1; 256 past the ranks stored exactly, see
        /// `IndexFormat`).
        var rankLimit: Int32 = 0
        var size: Int32 = 0
        /// The internal ids of this size, base..<base + count, and the
        /// forward run of their feature ids.
        var base: UInt32 = 0
        var count: UInt32 = 0
        var run: UnsafeRawPointer?
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

    /// Retrieves the matches of `query`, ordered by feature-set size, then
    /// id. With `similarities: false` a candidate is accepted as soon as it
    /// shares enough features, without counting the rest, and every match
    /// reports the threshold as its similarity (a lower bound): faster when
    /// only the strings matter, as for the command-line tool.
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

        queryFeatures.removeAll(keepingCapacity: true)
        scratch.reserve(features: index.featureCount, strings: index.count)
        let marks = scratch.queryMarks
        defer { for feature in queryFeatures { marks[feature >> 6] = 0 } }
        let n = index.settings.n
        extractor.units.withUnsafeBufferPointer { units in
            for feature in 0..<q {
                let start = Int(extractor.starts[feature]), occurrence = extractor.occurrences[feature]
                let id: Int?
                if n <= 3 {
                    // Spans of one text share most of their n-grams: looked
                    // up in the cache, the index's table on a miss.
                    let key = packedNGram(units.baseAddress! + start, n: n)
                    id = featureCache.id(key: key, occurrence: occurrence) {
                        index.featureID(units: units.baseAddress! + start, occurrence: occurrence)
                    }
                } else {
                    id = index.featureID(units: units.baseAddress! + start, occurrence: occurrence)
                }
                guard let id else { continue }
                queryFeatures.append(id)
                marks[id >> 6] |= 1 << UInt64(id & 63)
            }
        }
        // Most queries have a few dozen features: an insertion sort beats
        // the standard library's sort there (and only there: it is
        // quadratic).
        if queryFeatures.count > 64 {
            queryFeatures.sort()
        } else {
            queryFeatures.withUnsafeMutableBufferPointer { features in
                for position in features.indices.dropFirst() {
                    let feature = features[position]
                    var place = position
                    while place > 0, features[place &- 1] > feature {
                        features[place] = features[place &- 1]
                        place &-= 1
                    }
                    features[place] = feature
                }
            }
        }
        querySketch = 0
        for feature in queryFeatures { querySketch |= sketchBit(ofFeature: feature) }
        planSizes(sizes, querySize: q)
        collectCandidates(sizes)
        return verifyCandidates(sizes, querySize: q, measure: measure, threshold: threshold, similarities: similarities)
    }

    /// Sets each size's bounds and prefix, and finds each feature's entries
    /// for the sizes whose prefix holds it. The prefix is taken over all the
    /// query's features rather than those with strings of the size: a few
    /// more postings may be read, but no pass counting the features present
    /// at each size is needed (it walked about 300 entries per query).
    private mutating func planSizes(_ sizes: ClosedRange<Int>, querySize q: Int) {
        let low = sizes.lowerBound, count = sizes.count
        // Worked on outside `self`, through buffer pointers: element writes
        // to a stored array pay a uniqueness check each, a measurable share
        // of a short query.
        var plans = [SizePlan](), runs = [FeatureRun]()
        swap(&plans, &self.plans)
        swap(&runs, &self.runs)
        defer {
            swap(&plans, &self.plans)
            swap(&runs, &self.runs)
        }
        runs.removeAll(keepingCapacity: true)
        plans.removeAll(keepingCapacity: true)
        plans.append(contentsOf: repeatElement(SizePlan(), count: count))
        let index = self.index
        plans.withUnsafeMutableBufferPointer { plans in
            for bucket in 0..<count {
                let size = low + bucket
                guard let needed = boundsMemo.minimumOverlap(querySize: q, candidateSize: size),
                      needed <= q, needed <= size else {
                    plans[bucket] = SizePlan()
                    continue
                }
                plans[bucket].needed = Int32(needed)
                plans[bucket].size = Int32(size)
                (plans[bucket].base, plans[bucket].count) = index.sizeBucket(size)
                plans[bucket].run = index.forwardRun(ofSize: size)
                plans[bucket].prefixEnd = Int32(q - needed + 1)
                plans[bucket].rankLimit = Int32(min(size - needed + 1, 256))
            }
            // The query's features in order, those not in the index first
            // (they are in no string, so the rarest).
            let absent = q - queryFeatures.count
            // The largest size whose prefix holds the current place: places
            // only grow, so it only shrinks, and one pass down the sizes
            // serves all features (a query of a million features has
            // hundreds of thousands of sizes).
            var last = count - 1
            for (offset, feature) in queryFeatures.enumerated() {
                let place = Int32(absent + offset)
                while last >= 0, place >= plans[last].prefixEnd { last -= 1 }
                guard last >= 0 else { break }
                let entries = index.entries(ofFeature: feature)
                let first = firstEntry(in: entries, atLeast: low)
                var end = first
                while end < entries.upperBound, index.entrySize(end) &- low <= last { end &+= 1 }
                guard first < end else { continue }
                // Where the entries' postings start, read next.
                index.prefetchStarts(ofEntry: first)
                runs.append(FeatureRun(first: first, end: end, place: place))
            }
        }
    }

    /// Reads, for each size, the fronts of the posting lists of the query's
    /// prefix features at that size, and gathers the strings found there,
    /// once each, in `scratch.candidates`.
    private mutating func collectCandidates(_ sizes: ClosedRange<Int>) {
        let low = sizes.lowerBound, count = sizes.count
        let index = self.index
        let seen = scratch.seen
        // The gaps in the query's folded sketch.
        let outside = ~Posting.fold(querySketch) & Posting.sketchMask
        var candidates = scratch.candidates
        var found = 0
        var reads = [EntryRead]()
        swap(&reads, &self.reads)
        defer { swap(&reads, &self.reads) }
        reads.removeAll(keepingCapacity: true)
        plans.withUnsafeMutableBufferPointer { plans in
            // First the entries to read, in the order they are read (each
            // size's features rarest first, which the rank test below
            // relies on), each front fetched ahead: the fronts are scattered
            // over the postings and would otherwise be waited for one by one.
            for run in runs {
                for entry in run.first..<run.end {
                    let bucket = index.entrySize(entry) &- low
                    guard bucket >= 0, bucket < count, run.place < plans[bucket].prefixEnd else { continue }
                    let postings = index.postings(ofEntry: entry)
                    guard let front = postings.baseAddress else { continue }
                    tg_prefetch(front)
                    reads.append(EntryRead(postings: postings, bucket: bucket))
                }
            }
            for read in reads {
                let bucket = read.bucket
                let rankLimit = UInt8(truncatingIfNeeded: plans[bucket].rankLimit - 1)
                let base = plans[bucket].base, span = plans[bucket].count
                let allowedMisses = Int(plans[bucket].size &- plans[bucket].needed)
                for posting in read.postings {
                    // Ranks ascend within an entry: the rest are past the prefix.
                    if posting.rank > rankLimit { break }
                    // The string's features on bits the query's sketch
                    // lacks are misses. (The test gives the same answer
                    // whichever feature finds the string, so a string
                    // failing it is not marked as seen.)
                    if (posting.word & outside).nonzeroBitCount > allowedMisses { continue }
                    let id = posting.id
                    // An id outside the size's range can only come from a
                    // damaged file (its feature ids would be read from
                    // another string, or past the run).
                    guard id &- base < span else { continue }
                    let word = Int(id &>> 6), bit = UInt64(1) &<< UInt64(id & 63)
                    if seen[word] & bit != 0 { continue }
                    seen[word] |= bit
                    if found == scratch.candidateCapacity {
                        scratch.growCandidates(keeping: found)
                        candidates = scratch.candidates
                    }
                    candidates[found] = UInt64(bucket) &<< 40 | UInt64(posting.rank) &<< 32 | UInt64(id)
                    found &+= 1
                }
            }
        }
        scratch.candidateCount = found
    }

    /// Counts each candidate's overlap from its own feature ids and keeps
    /// those reaching their size's bound; clears the candidates' bits.
    private mutating func verifyCandidates(_ sizes: ClosedRange<Int>, querySize q: Int, measure: SimilarityMeasure,
                                           threshold: Double, similarities: Bool) -> [SimStringMatch] {
        let found = scratch.candidateCount
        guard found > 0 else { return [] }
        let candidates = UnsafeBufferPointer(start: scratch.candidates, count: found)
        let seen = scratch.seen
        for candidate in candidates { seen[Int(UInt32(truncatingIfNeeded: candidate) &>> 6)] = 0 }
        var accepted: [Accepted] = []
        plans.withUnsafeBufferPointer { plans in
            if index.forwardIDWidth == 2 {
                verify(candidates, plans, as: UInt16.self, similarities: similarities, into: &accepted)
            } else {
                verify(candidates, plans, as: UInt32.self, similarities: similarities, into: &accepted)
            }
        }
        // Internal ids number strings by size, then input order: the
        // results' order.
        accepted.sort { $0.id < $1.id }
        return accepted.map { match in
            SimStringMatch(
                id: index.externalID(match.id),
                similarity: similarities
                    ? measure.similarity(overlap: Int(match.overlap), querySize: q, candidateSize: Int(match.size))
                    : threshold)
        }
    }

    /// Counts the candidates' overlaps from their feature ids (a string of
    /// size s owns the s ids at `run + (id - base) × s`), each looked up in
    /// the query's feature bitset, giving up on a candidate once it has
    /// missed more features than its size allows.
    @inline(__always)
    private func verify<ID: FixedWidthInteger & UnsignedInteger>(
        _ candidates: UnsafeBufferPointer<UInt64>, _ plans: UnsafeBufferPointer<SizePlan>, as _: ID.Type,
        similarities: Bool, into accepted: inout [Accepted]
    ) {
        let marks = scratch.queryMarks, limit = index.featureCount
        /// The candidate's feature ids: `size` of them.
        @inline(__always) func row(_ candidate: UInt64, _ plan: SizePlan) -> UnsafePointer<ID> {
            plan.run!.assumingMemoryBound(to: ID.self) + Int(UInt32(truncatingIfNeeded: candidate) &- plan.base) &* Int(plan.size)
        }
        @inline(__always) func prefetch(_ candidate: UInt64) { tg_prefetch(row(candidate, plans[Int(candidate &>> 40)])) }
        let ahead = Self.prefetchDistance
        for position in 0..<min(ahead, candidates.count) { prefetch(candidates[position]) }
        for position in 0..<candidates.count {
            if position &+ ahead < candidates.count { prefetch(candidates[position &+ ahead]) }
            let candidate = candidates[position]
            let plan = plans[Int(candidate &>> 40)]
            let id = UInt32(truncatingIfNeeded: candidate), size = Int(plan.size), needed = Int(plan.needed)
            let features = row(candidate, plan)
            let allowedMisses = size &- needed
            // The feature that found the candidate is the smallest it shares
            // with the query (a smaller shared one sits earlier in both
            // prefixes and would have found it first): the features ranked
            // before it are misses, and it is a hit. A rank stored as 255
            // (or one past the string, from a damaged file) is not exact:
            // then every feature is counted.
            let rank = Int((candidate &>> 32) & 0xFF)
            let known = rank < 255 && rank < size
            var overlap = known ? 1 : 0, misses = known ? rank : 0
            for k in (known ? rank &+ 1 : 0)..<size {
                let feature = Int(truncatingIfNeeded: features[k])
                // An id past the table can only come from a damaged file.
                let hit = feature < limit && (marks[feature &>> 6] &>> UInt64(feature & 63)) & 1 != 0
                if hit {
                    overlap &+= 1
                    if !similarities, overlap >= needed { break }
                } else {
                    misses &+= 1
                    if misses > allowedMisses { break }
                }
            }
            if overlap >= needed { accepted.append(Accepted(id: id, overlap: UInt32(overlap), size: UInt32(size))) }
        }
    }

    /// How many candidates ahead verification prefetches: over a 2M-string
    /// index the runs are random reads from hundreds of megabytes (8 and 16
    /// were equally good, 0 half as fast, with the earlier CPMerge).
    static let prefetchDistance = 16

    /// The first entry in `entries` (ascending by size) whose size is at
    /// least `size`. Sizes rise by at least one per entry, so it is at most
    /// `size - firstSize` entries in: common features have an entry for
    /// nearly every size, and the search is then over a few entries.
    private func firstEntry(in entries: Range<Int>, atLeast size: Int) -> Int {
        guard !entries.isEmpty else { return entries.lowerBound }
        var low = entries.lowerBound
        let ahead = size - index.entrySize(low)
        if ahead <= 0 { return low }
        var high = min(entries.upperBound, low + ahead + 1)
        // Sizes with no gap up to it: the answer is the last place possible.
        if high == low + ahead + 1, index.entrySize(high - 2) < size { return high - 1 }
        while low < high {
            let middle = (low + high) / 2
            if index.entrySize(middle) < size { low = middle + 1 } else { high = middle }
        }
        return low
    }

}

/// The ids of recently looked-up features (n-grams of at most three code
/// units, packed 21 bits each, with their occurrence number), direct-mapped:
/// the index's feature table costs several cache misses per lookup, and
/// the spans of one text look up the same n-grams over and over.
struct FeatureCache {
    private struct Slot {
        var key: UInt64 = 0
        /// 0 for an empty slot (occurrences start at 1).
        var occurrence: UInt32 = 0
        /// -1 when the feature is not in the index.
        var id: Int32 = -1
    }
    private static let bits = 12
    private var slots = [Slot](repeating: Slot(), count: 1 << bits)

    /// The id of the feature `key` numbered `occurrence`, from the cache or
    /// else from `lookUp`, which is then remembered.
    @inline(__always)
    mutating func id(key: UInt64, occurrence: UInt32, lookUp: () -> Int?) -> Int? {
        let hash = (key ^ UInt64(occurrence) &* 0x9E37_79B9_7F4A_7C15) &* 0xFF51_AFD7_ED55_8CCD
        let slot = Int(truncatingIfNeeded: hash &>> UInt64(64 - Self.bits))
        return slots.withUnsafeMutableBufferPointer { slots in
            if slots[slot].occurrence == occurrence, slots[slot].key == key {
                return slots[slot].id < 0 ? nil : Int(slots[slot].id)
            }
            let id = lookUp()
            if let id, id > Int(Int32.max) { return id }
            slots[slot] = Slot(key: key, occurrence: occurrence, id: id.map { Int32($0) } ?? -1)
            return id
        }
    }
}

/// Raw buffers for a search: writing through pointers avoids the
/// uniqueness checks of array writes in the innermost loops. The bitsets are
/// kept clear between searches. One per searcher, never shared.
final class SearchScratch {
    /// One bit per indexed feature, set for the current query's features.
    private(set) var queryMarks = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    private var markWords = 0
    /// One bit per indexed string, set for the candidates found so far.
    private(set) var seen = UnsafeMutablePointer<UInt64>.allocate(capacity: 0)
    private var seenWords = 0
    /// The candidates: each one's size bucket (its size less the range's
    /// smallest) from bit 40, the rank in it of the feature that found it in
    /// bits 32 to 39, its internal id in the low 32 bits.
    private(set) var candidates = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
    private(set) var candidateCapacity = 256
    var candidateCount = 0

    /// Sizes the bitsets for `features` feature ids and `strings` strings
    /// (all bits clear).
    func reserve(features: Int, strings: Int) {
        Self.reserve(&queryMarks, words: &markWords, bits: features)
        Self.reserve(&seen, words: &seenWords, bits: strings)
    }

    /// Replaces `bitset` (of `words` words) by a cleared one when it holds
    /// fewer than `bits` bits.
    private static func reserve(_ bitset: inout UnsafeMutablePointer<UInt64>, words: inout Int, bits: Int) {
        let needed = (bits + 63) / 64
        guard needed > words else { return }
        bitset.deallocate()
        bitset = .allocate(capacity: needed)
        bitset.initialize(repeating: 0, count: needed)
        words = needed
    }

    /// Doubles the candidate buffer, keeping its first `count` ids.
    func growCandidates(keeping count: Int) {
        let larger = UnsafeMutablePointer<UInt64>.allocate(capacity: candidateCapacity * 2)
        larger.update(from: candidates, count: count)
        candidates.deallocate()
        candidates = larger
        candidateCapacity *= 2
    }

    deinit {
        queryMarks.deallocate()
        seen.deallocate()
        candidates.deallocate()
    }
}
