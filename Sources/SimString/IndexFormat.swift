/// The on-disk layout of a SimString index (`.simstring` file), version 1.
///
/// All integers little-endian; every section starts on an 8-byte boundary.
///
///     header (128 bytes)
///       0  magic "TGSIMSTR"          8  version u32       12 flags u32 (1 unicode, 2 marks)
///      16  n u32                    20  reserved u32
///      24  stringCount u64          32  featureCount u64  40  directoryCount u64
///      48  postingCount u64         56  tableCapacity u64 64  maxSize u64
///      72  stringBytesCount u64     80  reserved u64 ×4
///     112  bodyChecksum u64        120  headerChecksum u64 (of bytes 0..<120)
///     body, in this order:
///       stringOffsets      (stringCount + 1) × u64   where each string's bytes start
///       stringBytes        stringBytesCount bytes
///       featureUnits       featureCount × n × u32    each feature's n-gram code units
///       featureOccurrences featureCount × u32        its occurrence number
///       featureTable       tableCapacity × u32       open addressing by featureHash; 0 empty, else id + 1
///       featureDirectory   (featureCount + 1) × u32  first directory entry of each feature
///       directorySizes     directoryCount × u32      feature-set size of the strings in the entry
///       directoryStarts    (directoryCount + 1) × u32 first posting of each entry
///       postings           postingCount × u32        string ids, ascending within an entry
///
/// A feature's directory entries are sorted by size, so a query reads, for
/// each of its features, one contiguous run of entries covering its size
/// range: CPMerge over size-bucketed inverted lists without a hash probe per
/// (size, feature) pair as in the C++ layout.
enum IndexFormat {
    static let magic: [UInt8] = Array("TGSIMSTR".utf8)
    static let version: UInt32 = 1
    static let headerSize = 128
    static let unicodeFlag: UInt32 = 1
    static let marksFlag: UInt32 = 2

    static func align(_ offset: Int) -> Int { (offset + 7) & ~7 }
}

/// A fast 64-bit checksum (four multiply-rotate lanes over 8-byte words):
/// it detects truncation and corruption at open time in a few milliseconds
/// per hundred megabytes. Not cryptographic.
func indexChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (prime1, prime2, prime1 ^ 0x5555, prime2 ^ 0xAAAA)
    @inline(__always) func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        let value = (lane ^ (word &* prime2))
        return ((value << 31) | (value >> 33)) &* prime1
    }
    let count = bytes.count
    var offset = 0
    if let base = bytes.baseAddress {
        while offset + 32 <= count {
            lanes.0 = mix(lanes.0, base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            lanes.1 = mix(lanes.1, base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, base.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
            lanes.3 = mix(lanes.3, base.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
            offset += 32
        }
        while offset < count {
            lanes.0 = mix(lanes.0, UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) | 0x100)
            offset += 1
        }
    }
    var hash = UInt64(count) &* prime1
    hash = mix(hash, lanes.0)
    hash = mix(hash, lanes.1)
    hash = mix(hash, lanes.2)
    hash = mix(hash, lanes.3)
    return hash ^ (hash >> 29)
}

/// A problem with an index file.
public struct SimStringError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
