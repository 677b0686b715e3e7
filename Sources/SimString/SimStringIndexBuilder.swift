import Foundation
import TGSupport

/// Builds a SimString index from strings, in memory, then writes it.
///
/// String ids are the order of `add` calls (0, 1, 2 ...), duplicates
/// included, as in the C++ tool. Memory: the strings, one u32 per feature
/// occurrence, and the feature table.
public struct SimStringIndexBuilder {
    public let settings: FeatureSettings
    private var extractor: FeatureExtractor

    private var stringOffsets: [UInt64] = [0]
    private var stringBytes: [UInt8] = []
    /// Feature ids of all strings, concatenated; string i owns
    /// `featureStarts[i]..<featureStarts[i+1]`.
    private var stringFeatures: [UInt32] = []
    private var featureStarts: [Int] = [0]

    private var featureUnits: [UInt32] = []
    private var featureOccurrences: [UInt32] = []
    private var table: [UInt32] = Array(repeating: 0, count: 1024)

    public init(settings: FeatureSettings) throws {
        guard (1...64).contains(settings.n) else { throw SimStringError("n-gram length must be 1 to 64, got \(settings.n)") }
        self.settings = settings
        extractor = FeatureExtractor(settings: settings)
    }

    public var count: Int { stringOffsets.count - 1 }

    public mutating func add(_ string: String) {
        var string = string
        string.withUTF8 { add(bytes: $0) }
    }

    public mutating func add(bytes: UnsafeBufferPointer<UInt8>) {
        stringBytes.append(contentsOf: bytes)
        stringOffsets.append(UInt64(stringBytes.count))
        extractor.extract(bytes)
        for index in 0..<extractor.count {
            stringFeatures.append(featureID(ofExtracted: index))
        }
        featureStarts.append(stringFeatures.count)
    }

    /// Finds or adds the feature's id in the open-addressing table.
    private mutating func featureID(ofExtracted index: Int) -> UInt32 {
        let n = settings.n
        let hash = extractor.hash(ofFeature: index)
        let start = Int(extractor.starts[index])
        let occurrence = extractor.occurrences[index]
        var mask = table.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = table[slot]
            if entry == 0 { break }
            let id = Int(entry - 1)
            if featureOccurrences[id] == occurrence, unitsEqual(id: id, start: start, n: n) { return UInt32(id) }
            slot = (slot + 1) & mask
        }
        let id = UInt32(featureOccurrences.count)
        featureOccurrences.append(occurrence)
        featureUnits.append(contentsOf: extractor.units[start..<(start + n)])
        table[slot] = id + 1
        if featureOccurrences.count * 2 > table.count {
            rehash(capacity: table.count * 2)
            mask = table.count - 1
        }
        return id
    }

    private func unitsEqual(id: Int, start: Int, n: Int) -> Bool {
        let base = id * n
        for offset in 0..<n where featureUnits[base + offset] != extractor.units[start + offset] { return false }
        return true
    }

    private mutating func rehash(capacity: Int) {
        table = Self.featureTable(units: featureUnits, occurrences: featureOccurrences, n: settings.n, capacity: capacity)
    }

    /// The open-addressing table of features `0..<occurrences.count`
    /// (entry id + 1, 0 for empty), laid out by `featureHash`.
    private static func featureTable(units: [UInt32], occurrences: [UInt32], n: Int, capacity: Int) -> [UInt32] {
        var table = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        units.withUnsafeBufferPointer { units in
            for id in 0..<occurrences.count {
                var slot = Int(truncatingIfNeeded: featureHash(units.baseAddress! + id * n, n: n, occurrence: occurrences[id])) & mask
                while table[slot] != 0 { slot = (slot + 1) & mask }
                table[slot] = UInt32(id + 1)
            }
        }
        return table
    }

    /// Writes the index to `path` (through a temporary file renamed into
    /// place, so a reader never sees a half-written index).
    public func write(to path: String) throws {
        let featureCount = featureOccurrences.count
        let stringCount = count
        guard stringFeatures.count < Int(UInt32.max), stringCount < Int(UInt32.max) else {
            throw SimStringError("too many strings or features for index format \(IndexFormat.version)")
        }

        // Renumber the features rarest first (fewest strings, then first
        // seen): retrieval takes the query's and a candidate's rarest
        // features as their prefixes, and with this numbering "rarest
        // first" is ascending id order for both.
        var frequency = [Int](repeating: 0, count: featureCount)
        for id in stringFeatures { frequency[Int(id)] += 1 }
        let byRarity = (0..<featureCount).sorted { (frequency[$0], $0) < (frequency[$1], $1) }
        var renumbered = [UInt32](repeating: 0, count: featureCount)
        for (newID, oldID) in byRarity.enumerated() { renumbered[oldID] = UInt32(newID) }
        let n = settings.n
        var units = [UInt32]()
        units.reserveCapacity(featureUnits.count)
        for oldID in byRarity { units.append(contentsOf: featureUnits[(oldID * n)..<((oldID + 1) * n)]) }
        let occurrences = byRarity.map { featureOccurrences[$0] }
        let table = Self.featureTable(units: units, occurrences: occurrences, n: n, capacity: self.table.count)

        // Visit strings by size (a stable counting sort): internal ids
        // number the strings by size, then input order.
        var maxSize = 0
        for sid in 0..<stringCount { maxSize = max(maxSize, featureStarts[sid + 1] - featureStarts[sid]) }
        var bySize = [Int](repeating: 0, count: maxSize + 2)
        for sid in 0..<stringCount { bySize[featureStarts[sid + 1] - featureStarts[sid] + 1] += 1 }
        for size in 0...maxSize { bySize[size + 1] += bySize[size] }
        var order = [UInt32](repeating: 0, count: stringCount)
        for sid in 0..<stringCount {
            let size = featureStarts[sid + 1] - featureStarts[sid]
            order[bySize[size]] = UInt32(sid)
            bySize[size] += 1
        }

        // bySize[s] now ends size s's run; shift it back into run starts.
        var sizeOffsets = [UInt32](repeating: 0, count: maxSize + 2)
        for size in 0...maxSize { sizeOffsets[size + 1] = UInt32(bySize[size]) }

        // Each string's feature ids, ascending (rarest first), in internal-id
        // order: a candidate's features are then one contiguous run at a
        // computable offset, and a feature's place in its string's run is
        // its rank there. Ids fit 16 bits for most lexicons (n-grams of text
        // are few), which halves what verifying a candidate reads.
        let narrow = featureCount <= 1 << 16
        var forward = [UInt32]()
        forward.reserveCapacity(stringFeatures.count)
        for sid in order {
            let start = forward.count
            forward.append(contentsOf: stringFeatures[featureStarts[Int(sid)]..<featureStarts[Int(sid) + 1]].lazy.map { renumbered[Int($0)] })
            forward[start...].sort()
        }

        // Each feature's postings, grouped by size; within a size, by the
        // feature's rank in the string, then id, so the strings holding it
        // among their first k features are the front of the group. Strings
        // are visited by internal id (size, then input order) and each
        // (feature, size) group is then ordered by rank.
        var listStarts = [Int](repeating: 0, count: featureCount + 1)
        for id in forward { listStarts[Int(id) + 1] += 1 }
        for index in 0..<featureCount { listStarts[index + 1] += listStarts[index] }
        var cursor = listStarts
        // Ids and ranks (saturated at 255, as stored) in two arrays, 5 bytes
        // a posting rather than 8 packed: at UMLS scale this is the build's
        // largest array.
        var postingIDs = [UInt32](repeating: 0, count: forward.count)
        var postingRanks = [UInt8](repeating: 0, count: forward.count)
        var position = 0
        for internalID in 0..<stringCount {
            let size = featureStarts[Int(order[internalID]) + 1] - featureStarts[Int(order[internalID])]
            for rank in 0..<size {
                let feature = Int(forward[position + rank])
                postingIDs[cursor[feature]] = UInt32(internalID)
                postingRanks[cursor[feature]] = UInt8(min(rank, 255))
                cursor[feature] += 1
            }
            position += size
        }
        cursor = []

        var directory = [UInt32](repeating: 0, count: featureCount + 1)
        var directorySizes: [UInt32] = []
        var directoryStarts: [UInt32] = []
        var sizeOfInternal = [UInt32](repeating: 0, count: stringCount)
        for size in 0...maxSize {
            for internalID in Int(sizeOffsets[size])..<Int(sizeOffsets[size + 1]) { sizeOfInternal[internalID] = UInt32(size) }
        }
        // Each (feature, size) group ordered by (rank, id) through a
        // reused buffer of packed keys. (Among ranks of 255 or more, stored
        // alike, the order is by id: the searcher reads all of them or none.)
        var group: [UInt64] = []
        for feature in 0..<featureCount {
            directory[feature] = UInt32(directorySizes.count)
            var groupStart = listStarts[feature]
            while groupStart < listStarts[feature + 1] {
                let size = sizeOfInternal[Int(postingIDs[groupStart])]
                var groupEnd = groupStart + 1
                while groupEnd < listStarts[feature + 1], sizeOfInternal[Int(postingIDs[groupEnd])] == size { groupEnd += 1 }
                group.removeAll(keepingCapacity: true)
                for place in groupStart..<groupEnd { group.append(UInt64(postingRanks[place]) << 32 | UInt64(postingIDs[place])) }
                group.sort()
                for (offset, key) in group.enumerated() {
                    postingIDs[groupStart + offset] = UInt32(truncatingIfNeeded: key)
                    postingRanks[groupStart + offset] = UInt8(truncatingIfNeeded: key >> 32)
                }
                directorySizes.append(size)
                directoryStarts.append(UInt32(groupStart))
                groupStart = groupEnd
            }
        }
        group = []
        directory[featureCount] = UInt32(directorySizes.count)
        directoryStarts.append(UInt32(postingIDs.count))
        // Each string's sketch: one bit per feature, by a hash of its id.
        var sketches = [UInt64](repeating: 0, count: stringCount)
        position = 0
        for internalID in 0..<stringCount {
            let size = featureStarts[Int(order[internalID]) + 1] - featureStarts[Int(order[internalID])]
            for feature in forward[position..<(position + size)] { sketches[internalID] |= sketchBit(ofFeature: Int(feature)) }
            position += size
        }
        // The postings are written from these arrays in slices (see below):
        // a whole array of 12-byte postings would be the build's peak.
        let postingCount = postingIDs.count
        func posting(_ place: Int) -> Posting {
            Posting(id: postingIDs[place], rank: Int(postingRanks[place]), sketch: sketches[Int(postingIDs[place])])
        }

        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        Debris.sweep(folder)
        let partial = path + ".partial-" + Debris.tag
        var file = try IndexFileWriter(path: partial)
        do {
            try file.append(stringOffsets)
            try file.append(stringBytes)
            try file.append(units)
            try file.append(occurrences)
            try file.append(table)
            try file.append(directory)
            try file.append(directorySizes)
            try file.append(directoryStarts)
            // An even number of 12-byte postings per slice keeps each slice
            // a multiple of the 8-byte section alignment.
            let slice = 1 << 20
            guard Posting.matchesFormat else {
                throw SimStringError("\(path): this build lays out a posting in \(MemoryLayout<Posting>.stride) bytes, the format in \(IndexFormat.postingSize)")
            }
            for start in stride(from: 0, to: postingCount, by: slice) {
                try file.append((start..<min(postingCount, start + slice)).map(posting))
            }
            postingIDs = []
            postingRanks = []
            try file.append(order)
            try file.append(sizeOffsets)
            if narrow {
                try file.append(forward.map { UInt16(truncatingIfNeeded: $0) })
            } else {
                try file.append(forward)
            }
            var flags: UInt32 = 0
            if settings.unicode { flags |= IndexFormat.unicodeFlag }
            if settings.marks { flags |= IndexFormat.marksFlag }
            if narrow { flags |= IndexFormat.narrowForwardFlag }
            try file.finish(flags: flags, n: UInt32(settings.n), counts: [
                UInt64(stringCount), UInt64(featureCount), UInt64(directorySizes.count), UInt64(postingCount),
                UInt64(table.count), UInt64(maxSize), UInt64(stringBytes.count),
            ])
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        try SafeReplace.move(partial, to: path)
    }
}

/// Streams the sections of an index file to disk, checksumming as it goes;
/// the header is written last, over the space reserved for it.
private struct IndexFileWriter {
    private let handle: FileHandle
    private var checksum = IndexChecksum()
    private var written = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SimStringError("\(path): cannot create")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(count: IndexFormat.headerSize))
    }

    mutating func append<T: BitwiseCopyable>(_ values: [T]) throws {
        try values.withUnsafeBytes { bytes in
            // In slices, so a multi-gigabyte section is never copied whole.
            var offset = 0
            while offset < bytes.count {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + (64 << 20))])
                checksum.update(slice)
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: slice.baseAddress!),
                                                  count: slice.count, deallocator: .none))
                offset += slice.count
            }
            written += bytes.count
        }
        let padding = IndexFormat.align(written) - written
        if padding > 0 {
            let zeros = [UInt8](repeating: 0, count: padding)
            zeros.withUnsafeBytes { checksum.update($0) }
            try handle.write(contentsOf: Data(zeros))
            written += padding
        }
    }

    mutating func finish(flags: UInt32, n: UInt32, counts: [UInt64]) throws {
        var header = [UInt8](repeating: 0, count: IndexFormat.headerSize)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes in
                for (index, byte) in bytes.enumerated() { header[offset + index] = byte }
            }
        }
        for (index, byte) in IndexFormat.magic.enumerated() { header[index] = byte }
        put(IndexFormat.version, at: 8)
        put(flags, at: 12)
        put(n, at: 16)
        for (index, count) in counts.enumerated() { put(count, at: 24 + 8 * index) }
        put(checksum.finalize(), at: 112)
        let headerSum = header.withUnsafeBytes { indexChecksum(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        put(headerSum, at: 120)
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(header))
        try handle.synchronize()
        try handle.close()
    }
}
