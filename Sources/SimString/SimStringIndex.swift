import CPrefetch
import TGSupport
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One retrieved string.
public struct SimStringMatch: Sendable, Equatable {
    /// The string's id: its position in the build input.
    public var id: Int
    /// Its similarity to the query under the measure asked for.
    public var similarity: Double
}

/// A read-only SimString index, memory-mapped from its file.
///
/// Opening maps the file and checks it (header, section bounds, checksum);
/// nothing is rebuilt or copied, so a large index opens in milliseconds and
/// its pages are shared between processes. The mapped memory never changes,
/// so one index may be queried from many threads at once.
public final class SimStringIndex: @unchecked Sendable {
    /// Whether the file at `path` starts as a thinkgraph SimString database
    /// does (what a build may replace without --force).
    public static func looksLikeIndex(atPath path: String) -> Bool {
        SafeReplace.starts(path, with: IndexFormat.magic)
    }

    // @unchecked: the only state is an immutable read-only mapping.
    public let path: String
    public let settings: FeatureSettings
    public let count: Int
    public let featureCount: Int
    public let maxSize: Int

    private let mapping: UnsafeRawPointer
    private let mappingLength: Int
    private let stringOffsets: UnsafePointer<UInt64>
    private let stringBytes: UnsafePointer<UInt8>
    private let featureUnits: UnsafePointer<UInt32>
    private let featureOccurrences: UnsafePointer<UInt32>
    private let table: UnsafePointer<UInt32>
    private let tableMask: Int
    private let directory: UnsafePointer<UInt32>
    private let directorySizes: UnsafePointer<UInt32>
    private let directoryStarts: UnsafePointer<UInt32>
    private let postings: UnsafePointer<Posting>
    private let externalIDs: UnsafePointer<UInt32>
    private let sizeOffsets: UnsafePointer<UInt32>
    private let forwardFeatures: UnsafeRawPointer
    /// Bytes per id in `forwardFeatures`: 2 or 4.
    let forwardIDWidth: Int
    /// Where each size's forward runs start in `forwardFeatures`, in ids.
    private let forwardStarts: [Int]

    /// Opens and checks an index: the header checksum, every section's
    /// bounds, and the offsets that address memory (string offsets, feature
    /// directory, posting ranges), which costs milliseconds even for millions
    /// of strings. Posting ids are checked as they are used, so a damaged body
    /// gives wrong answers at worst, never a crash. `verifyChecksum: true`
    /// also checks the body checksum, reading the whole file (see `verify`).
    public convenience init(path: String, verifyChecksum: Bool = false) throws {
        try self.init(path: path, verification: verifyChecksum ? .always : .never)
    }

    /// When the body checksum is checked (it reads the whole file).
    public enum Verification: Sendable {
        /// Never (the header and section bounds are still checked).
        case never
        /// The first time this file is opened: a stamp beside it
        /// (`FILE.verified`: size, modification time, inode and checksum)
        /// says it was checked, so later opens of the unchanged file cost
        /// nothing; a file written since is checked again. A folder that
        /// cannot take the stamp is checked at every open.
        case once
        /// At every open.
        case always
    }

    /// Opens and checks an index, its body checksum as `verification` says.
    public init(path: String, verification: Verification) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw SimStringError("\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SimStringError("\(path): cannot stat") }
        let length = Int(info.st_size)
        guard length >= IndexFormat.headerSize else {
            throw SimStringError("\(path): not a thinkgraph SimString index (file too short: \(length) bytes)")
        }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw SimStringError("\(path): cannot map: \(String(cString: strerror(errno)))")
        }
        let base = UnsafeRawPointer(address)
        mapping = base
        mappingLength = length
        var ok = false
        defer { if !ok { munmap(address, length) } }

        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }

        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == IndexFormat.magic else {
            throw SimStringError("\(path): not a thinkgraph SimString index (bad magic)")
        }
        guard u32(8) == IndexFormat.version else {
            throw SimStringError("\(path): index format version \(u32(8)) is not supported (this tool reads \(IndexFormat.version)); rebuild the index",
                                 isUnsupportedVersion: true)
        }
        guard indexChecksum(UnsafeRawBufferPointer(start: base, count: 120)) == u64(120) else {
            throw SimStringError("\(path): corrupted index (header checksum mismatch)")
        }
        let flags = u32(12)
        let n = Int(u32(16))
        settings = FeatureSettings(n: n, marks: flags & IndexFormat.marksFlag != 0,
                                   unicode: flags & IndexFormat.unicodeFlag != 0)
        let counts = (0..<7).map { u64(24 + 8 * $0) }
        guard counts.allSatisfy({ $0 < UInt64(Int32.max) * 8 }), n >= 1, n <= 64 else {
            throw SimStringError("\(path): corrupted index (implausible counts)")
        }
        let (strings, features, entries, postingCount, capacity, maxSize, byteCount) =
            (Int(counts[0]), Int(counts[1]), Int(counts[2]), Int(counts[3]), Int(counts[4]), Int(counts[5]), Int(counts[6]))
        guard capacity > 0, capacity & (capacity - 1) == 0, capacity > features else {
            throw SimStringError("\(path): corrupted index (bad feature table capacity)")
        }
        count = strings
        featureCount = features
        self.maxSize = maxSize

        // Section layout, exactly as the builder writes it.
        var offset = IndexFormat.headerSize
        func section(_ bytes: Int) -> Int {
            let start = offset
            offset = IndexFormat.align(offset + bytes)
            return start
        }
        let offsetsAt = section((strings + 1) * 8)
        let bytesAt = section(byteCount)
        let unitsAt = section(features * n * 4)
        let occurrencesAt = section(features * 4)
        let tableAt = section(capacity * 4)
        let directoryAt = section((features + 1) * 4)
        let sizesAt = section(entries * 4)
        let startsAt = section((entries + 1) * 4)
        // The postings are read in place as `Posting`s: the type must be the
        // 12 bytes, 4-aligned, the format writes (a compiler that laid it
        // out otherwise would read every posting wrong).
        guard Posting.matchesFormat else {
            throw SimStringError("\(path): this build lays out a posting in \(MemoryLayout<Posting>.stride) bytes, the format in \(IndexFormat.postingSize)")
        }
        let postingsAt = section(postingCount * IndexFormat.postingSize)
        let externalAt = section(strings * 4)
        let sizeOffsetsAt = section((maxSize + 2) * 4)
        let forwardIDWidth = flags & IndexFormat.narrowForwardFlag != 0 ? 2 : 4
        self.forwardIDWidth = forwardIDWidth
        let forwardAt = section(postingCount * forwardIDWidth)
        guard offset == length else {
            throw SimStringError("\(path): corrupted or truncated index (expected \(offset) bytes, found \(length))")
        }
        stringOffsets = (base + offsetsAt).assumingMemoryBound(to: UInt64.self)
        stringBytes = (base + bytesAt).assumingMemoryBound(to: UInt8.self)
        featureUnits = (base + unitsAt).assumingMemoryBound(to: UInt32.self)
        featureOccurrences = (base + occurrencesAt).assumingMemoryBound(to: UInt32.self)
        table = (base + tableAt).assumingMemoryBound(to: UInt32.self)
        tableMask = capacity - 1
        directory = (base + directoryAt).assumingMemoryBound(to: UInt32.self)
        directorySizes = (base + sizesAt).assumingMemoryBound(to: UInt32.self)
        directoryStarts = (base + startsAt).assumingMemoryBound(to: UInt32.self)
        postings = (base + postingsAt).assumingMemoryBound(to: Posting.self)
        externalIDs = (base + externalAt).assumingMemoryBound(to: UInt32.self)
        sizeOffsets = (base + sizeOffsetsAt).assumingMemoryBound(to: UInt32.self)
        forwardFeatures = base + forwardAt
        guard stringOffsets[strings] == UInt64(byteCount), directory[features] == UInt32(entries),
              directoryStarts[entries] == UInt32(postingCount) else {
            throw SimStringError("\(path): corrupted index (section ends disagree)")
        }
        guard Self.isAscending(stringOffsets, count: strings + 1),
              Self.isAscending(directory, count: features + 1),
              Self.isAscending(directoryStarts, count: entries + 1),
              Self.isAscending(sizeOffsets, count: maxSize + 2), sizeOffsets[maxSize + 1] == UInt32(strings),
              Self.allBelow(externalIDs, count: strings, limit: UInt32(strings)) else {
            throw SimStringError("\(path): corrupted index (offsets out of order)")
        }
        var starts = [Int](repeating: 0, count: maxSize + 2)
        for size in 0...maxSize {
            let strings = Int(sizeOffsets[size + 1] - sizeOffsets[size])
            starts[size + 1] = starts[size] + strings * size
        }
        guard starts[maxSize + 1] == postingCount else {
            throw SimStringError("\(path): corrupted index (forward features disagree with sizes)")
        }
        forwardStarts = starts
        bodyChecksum = u64(112)
        ok = true
        let stamp = Self.stamp(of: info, checksum: bodyChecksum)
        let stampPath = path + ".verified"
        let checks = verification == .always
            || (verification == .once && (try? String(contentsOfFile: stampPath, encoding: .utf8)) != stamp)
        if checks {
            try verify()
            if verification == .once { try? stamp.write(toFile: stampPath, atomically: true, encoding: .utf8) }
            // The check read every page; let them go from this process's
            // resident set (they stay in the page cache, shared, and come
            // back on demand) so memory reflects what queries touch.
            _ = madvise(address, length, MADV_DONTNEED)
        }
    }

    private let bodyChecksum: UInt64

    /// What identifies a checked file: size, modification time, inode and
    /// the header's body checksum.
    private static func stamp(of info: stat, checksum: UInt64) -> String {
        "\(FileIdentity.of(info)) \(String(checksum, radix: 16))\n"
    }

    private static func allBelow(_ values: UnsafePointer<UInt32>, count: Int, limit: UInt32) -> Bool {
        for position in 0..<count where values[position] >= limit { return false }
        return true
    }

    private static func isAscending<T: FixedWidthInteger>(_ values: UnsafePointer<T>, count: Int) -> Bool {
        var previous = T.zero
        for position in 0..<count {
            if values[position] < previous { return false }
            previous = values[position]
        }
        return true
    }

    /// Reads the whole file and checks the body checksum.
    public func verify() throws {
        let body = UnsafeRawBufferPointer(start: mapping + IndexFormat.headerSize,
                                          count: mappingLength - IndexFormat.headerSize)
        guard indexChecksum(body) == bodyChecksum else {
            throw SimStringError("\(path): corrupted index (body checksum mismatch)")
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: mapping), mappingLength) }

    /// The bytes of string `id`.
    public func bytes(of id: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(id >= 0 && id < count, "string id \(id) out of range")
        let start = Int(stringOffsets[id]), end = Int(stringOffsets[id + 1])
        guard start <= end, end <= Int(stringOffsets[count]) else { return UnsafeBufferPointer(start: stringBytes, count: 0) }
        return UnsafeBufferPointer(start: stringBytes + start, count: end - start)
    }

    /// String `id` as text (invalid UTF-8 repaired).
    public func string(of id: Int) -> String {
        String(decoding: bytes(of: id), as: UTF8.self)
    }

    /// Retrieves every indexed string whose similarity to `query` reaches
    /// `threshold`, ordered by feature-set size, then id.
    public func search(_ query: String, measure: SimilarityMeasure, threshold: Double,
                       arithmetic: ThresholdArithmetic = .exact) throws -> [SimStringMatch] {
        var searcher = SimStringSearcher(index: self)
        return try searcher.search(query, measure: measure, threshold: threshold, arithmetic: arithmetic)
    }

    // MARK: Access for the searcher

    /// The id of the feature `units[start..<start+n]` numbered `occurrence`, if indexed.
    func featureID(units: UnsafePointer<UInt32>, occurrence: UInt32) -> Int? {
        let n = settings.n
        var slot = Int(truncatingIfNeeded: featureHash(units, n: n, occurrence: occurrence)) & tableMask
        var probes = 0
        while probes <= tableMask {
            let entry = table[slot]
            if entry == 0 { return nil }
            let id = Int(entry - 1)
            if id < featureCount, featureOccurrences[id] == occurrence {
                let stored = featureUnits + id * n
                var same = true
                for offset in 0..<n where stored[offset] != units[offset] {
                    same = false
                    break
                }
                if same { return id }
            }
            slot = (slot + 1) & tableMask
            probes += 1
        }
        return nil
    }

    /// Starts fetching where `entry`'s postings start.
    @inline(__always) func prefetchStarts(ofEntry entry: Int) { tg_prefetch(directoryStarts + entry) }

    /// The directory entries of a feature.
    func entries(ofFeature id: Int) -> Range<Int> {
        Int(directory[id])..<Int(directory[id + 1])
    }

    func entrySize(_ entry: Int) -> Int { Int(directorySizes[entry]) }

    /// The string id (input order) of an internal id.
    func externalID(_ internalID: UInt32) -> Int { Int(externalIDs[Int(internalID)]) }

    /// The internal ids of the strings with `size` features.
    func sizeBucket(_ size: Int) -> (start: UInt32, count: UInt32) {
        guard size >= 0, size <= maxSize else { return (0, 0) }
        return (sizeOffsets[size], sizeOffsets[size + 1] - sizeOffsets[size])
    }

    /// The feature ids of the strings with `size` features, `size` per
    /// string, in internal-id order from `sizeBucket(size).start`; ids are
    /// `forwardIDWidth` bytes wide.
    func forwardRun(ofSize size: Int) -> UnsafeRawPointer {
        forwardFeatures + forwardStarts[size] * forwardIDWidth
    }

    func postings(ofEntry entry: Int) -> UnsafeBufferPointer<Posting> {
        let start = Int(directoryStarts[entry]), end = Int(directoryStarts[entry + 1])
        return UnsafeBufferPointer(start: postings + start, count: max(0, end - start))
    }
}
