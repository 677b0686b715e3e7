/// Runs queries against one index with reusable buffers: one searcher per
/// thread, as many as wanted on one shared index.
///
/// Retrieval is SimString's CPMerge: for each candidate size in the range the
/// measure allows, the query's posting lists for that size are sorted by
/// length; candidates are collected from the `q - τ + 1` shortest lists (a
/// string sharing τ of the q features must appear in one of them), then
/// checked against the remaining lists by binary search, dropping those that
/// can no longer reach τ. Accepted candidates are still counted in every list,
/// so each result carries its exact overlap and similarity.
public struct SimStringSearcher {
    public let index: SimStringIndex
    private var extractor: FeatureExtractor
    private var features: [Int] = []
    private var cursors: [Int] = []
    private var cursorEnds: [Int] = []
    private var lists: [UnsafeBufferPointer<UInt32>] = []
    private var candidates: [Candidate] = []
    private var merged: [Candidate] = []

    struct Candidate {
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

    public mutating func search(bytes query: UnsafeBufferPointer<UInt8>, measure: SimilarityMeasure, threshold: Double,
                                arithmetic: ThresholdArithmetic = .exact) throws -> [SimStringMatch] {
        guard threshold > 0, threshold <= 1 else {
            throw SimStringError("threshold must be in (0, 1], got \(threshold)")
        }
        extractor.extract(query)
        let q = extractor.count
        let bounds = RetrievalBounds(measure: measure, threshold: threshold, arithmetic: arithmetic)
        guard let sizes = bounds.sizeRange(querySize: q, maxSize: index.maxSize) else { return [] }

        // Each present feature's run of directory entries within the size range.
        features.removeAll(keepingCapacity: true)
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
                features.append(id)
                cursors.append(low)
                cursorEnds.append(entries.upperBound)
            }
        }

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
            merge(needed: needed, queryFeatureCount: q)
            for candidate in candidates where Int(candidate.count) >= needed {
                results.append(SimStringMatch(
                    id: Int(candidate.id),
                    similarity: measure.similarity(overlap: Int(candidate.count), querySize: q, candidateSize: size)))
            }
        }
        return results
    }

    /// CPMerge over `lists` (the non-empty posting lists of one size); leaves
    /// the candidates, with their overlap counts, in `candidates`.
    private mutating func merge(needed: Int, queryFeatureCount q: Int) {
        lists.sort { $0.count < $1.count }
        // Absent features count as empty lists at the front.
        let absent = q - lists.count
        let initialLists = max(0, q - needed + 1 - absent)
        candidates.removeAll(keepingCapacity: true)
        for list in lists.prefix(initialLists) {
            merged.removeAll(keepingCapacity: true)
            var i = 0, j = 0
            while i < candidates.count || j < list.count {
                if j == list.count || (i < candidates.count && candidates[i].id < list[j]) {
                    merged.append(candidates[i])
                    i += 1
                } else if i == candidates.count || list[j] < candidates[i].id {
                    merged.append(Candidate(id: list[j], count: 1))
                    j += 1
                } else {
                    merged.append(Candidate(id: list[j], count: candidates[i].count + 1))
                    i += 1
                    j += 1
                }
            }
            swap(&candidates, &merged)
        }
        var remaining = lists.count - initialLists
        for list in lists.dropFirst(initialLists) {
            remaining -= 1
            var kept = 0
            for index in candidates.indices {
                var candidate = candidates[index]
                if Self.contains(list, candidate.id) { candidate.count += 1 }
                // Keep accepted candidates (to finish their count) and those
                // that can still reach the bound.
                if Int(candidate.count) + remaining >= needed {
                    candidates[kept] = candidate
                    kept += 1
                }
            }
            candidates.removeLast(candidates.count - kept)
            if candidates.isEmpty { break }
        }
    }

    @inline(__always)
    private static func contains(_ list: UnsafeBufferPointer<UInt32>, _ value: UInt32) -> Bool {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) &>> 1
            if list[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < list.count && list[low] == value
    }
}
