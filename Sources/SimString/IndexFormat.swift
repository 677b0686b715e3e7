/// A feature's bit in a 64-bit string sketch (the top 6 bits of a
/// multiplicative hash of its id). A string's features that fall on bits
/// outside a query's sketch are certainly not the query's, so the bits of
/// `candidate & ~query` count misses without reading the candidate's ids.
@inline(__always)
func sketchBit(ofFeature id: Int) -> UInt64 {
    1 &<< ((UInt64(truncatingIfNeeded: id) &* 0x9E37_79B9_7F4A_7C15) &>> 58)
}

/// One posting, 12 bytes read in order: the string's internal id, then one
/// 64-bit word holding the feature's rank in the string (top 8 bits; 255 for
/// 255 or more) and the string's sketch folded to 56 bits.
struct Posting {
    let id: UInt32
    private let low: UInt32
    private let high: UInt32

    static let sketchMask: UInt64 = (1 << 56) - 1

    /// Whether this type's layout is the format's: postings are read from
    /// the mapped file in place, so size, stride and alignment must be
    /// exactly those the builder wrote.
    static var matchesFormat: Bool {
        MemoryLayout<Posting>.size == IndexFormat.postingSize && MemoryLayout<Posting>.stride == IndexFormat.postingSize
            && MemoryLayout<Posting>.alignment == 4 && MemoryLayout<Posting>.offset(of: \.id) == 0
    }

    init(id: UInt32, rank: Int, sketch: UInt64) {
        let word = UInt64(min(rank, 255)) &<< 56 | Self.fold(sketch)
        self.id = id
        low = UInt32(truncatingIfNeeded: word)
        high = UInt32(truncatingIfNeeded: word &>> 32)
    }

    /// Rank and folded sketch.
    @inline(__always) var word: UInt64 { UInt64(high) &<< 32 | UInt64(low) }
    /// The feature's place among the string's feature ids (ascending), 255
    /// for 255 or more.
    @inline(__always) var rank: UInt8 { UInt8(truncatingIfNeeded: high &>> 24) }

    /// A sketch folded to 56 bits (bit b set when bit b or b + 56 is):
    /// folding keeps the property of `sketchBit`.
    @inline(__always)
    static func fold(_ sketch: UInt64) -> UInt64 { (sketch | sketch &>> 56) & sketchMask }
}

/// The on-disk layout of a SimString index (`.simstring` file), version 7.
///
/// All integers little-endian; every section starts on an 8-byte boundary.
///
///     header (128 bytes)
///       0  magic "TGSIMSTR"          8  version u32       12 flags u32 (1 unicode, 2 marks, 4 narrow ids)
///      16  n u32                    20  reserved u32
///      24  stringCount u64          32  featureCount u64  40  directoryCount u64
///      48  postingCount u64         56  tableCapacity u64 64  maxSize u64
///      72  stringBytesCount u64     80  reserved u64 ×4
///     112  bodyChecksum u64        120  headerChecksum u64 (of bytes 0..<120)
///     body, in this order:
///       stringOffsets      (stringCount + 1) × u64   where each string's bytes start
///       stringBytes        stringBytesCount bytes
///       featureUnits       featureCount × n × u32    each feature's n-gram code units; features are
///                                                    numbered rarest first (fewest strings, then first seen)
///       featureOccurrences featureCount × u32        its occurrence number
///       featureTable       tableCapacity × u32       open addressing by featureHash; 0 empty, else id + 1
///       featureDirectory   (featureCount + 1) × u32  first directory entry of each feature
///       directorySizes     directoryCount × u32      feature-set size of the strings in the entry
///       directoryStarts    (directoryCount + 1) × u32 first posting of each entry
///       postings           postingCount × 12 bytes   `Posting`s: internal string id, the feature's rank in
///                                                    the string and the string's folded sketch; within an
///                                                    entry ordered by rank, then id
///       externalIDs        stringCount × u32         internal id → string id (input order)
///       sizeOffsets        (maxSize + 2) × u32       first internal id of each feature-set size
///       forwardFeatures    postingCount × u16 or u32 each string's feature ids, ascending, in internal-id order;
///                                                    u16 (flag 4) when there are at most 65,536 features
///
/// Internal ids number the strings by feature-set size (then input order), so
/// the strings of one size are one contiguous id range.
///
/// A feature's directory entries are sorted by size, so a query reads, for
/// each of its features, one contiguous run of entries covering its size
/// range, without a hash probe per (size, feature) pair as in the C++ layout.
///
/// Retrieval (see `SimStringSearcher`) reads only the front of an entry: the
/// strings holding the feature among their rarest ones. That is why postings
/// are ordered by the feature's rank in the string and carry that rank, and
/// the string's folded sketch, which rules most strings out without a read
/// elsewhere: 12 bytes per posting, so an entry's front is one cache line.
///
/// The forward features let the searcher verify a candidate directly: every
/// string of size s owns exactly s ids, so internal id i's run starts at the
/// sum of count × size over the smaller sizes plus (i - first id of its
/// size) × s, with no offsets table.
enum IndexFormat {
    static let magic: [UInt8] = Array("TGSIMSTR".utf8)
    static let version: UInt32 = 7
    static let headerSize = 128
    /// A posting's bytes: id u32, then the rank and sketch word as two u32.
    static let postingSize = 12
    static let unicodeFlag: UInt32 = 1
    static let marksFlag: UInt32 = 2
    static let narrowForwardFlag: UInt32 = 4

    static func align(_ offset: Int) -> Int { (offset + 7) & ~7 }
}

/// A fast 64-bit checksum (four multiply-rotate lanes over 8-byte words):
/// it detects truncation and corruption at open time in a few milliseconds
/// per hundred megabytes. Not cryptographic. Streaming, so the builder can
/// checksum sections as it writes them.
struct IndexChecksum {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private var lanes: (UInt64, UInt64, UInt64, UInt64) = (prime1, prime2, prime1 ^ 0x5555, prime2 ^ 0xAAAA)
    private var pending: [UInt8] = []
    private var total: UInt64 = 0

    @inline(__always)
    private static func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        let value = lane ^ (word &* prime2)
        return ((value << 31) | (value >> 33)) &* prime1
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        total &+= UInt64(bytes.count)
        var offset = 0
        if !pending.isEmpty {
            let take = min(32 - pending.count, bytes.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            offset = take
            if pending.count == 32 {
                pending.withUnsafeBytes { block(at: $0.baseAddress!) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - offset >= 32 {
            block(at: base + offset)
            offset += 32
        }
        if offset < bytes.count { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
    }

    @inline(__always)
    private mutating func block(at pointer: UnsafeRawPointer) {
        lanes.0 = Self.mix(lanes.0, pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        lanes.1 = Self.mix(lanes.1, pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        lanes.2 = Self.mix(lanes.2, pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        lanes.3 = Self.mix(lanes.3, pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    func finalize() -> UInt64 {
        var lanes = self.lanes
        for byte in pending { lanes.0 = Self.mix(lanes.0, UInt64(byte) | 0x100) }
        var hash = total &* Self.prime1
        hash = Self.mix(hash, lanes.0)
        hash = Self.mix(hash, lanes.1)
        hash = Self.mix(hash, lanes.2)
        hash = Self.mix(hash, lanes.3)
        return hash ^ (hash >> 29)
    }
}

func indexChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var checksum = IndexChecksum()
    checksum.update(bytes)
    return checksum.finalize()
}

/// A problem with an index file.
public struct SimStringError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    /// The file is an index of another format version: rebuilding it from
    /// its strings is the remedy, not a repair.
    public let isUnsupportedVersion: Bool
    public init(_ message: String, isUnsupportedVersion: Bool = false) {
        self.message = message
        self.isUnsupportedVersion = isUnsupportedVersion
    }
    public var description: String { message }
}
