/// FNV-1a, 64 bits, then SplitMix64's finaliser: stable across runs,
/// machines and Swift versions (Swift's `Hasher` is seeded per process).
/// FNV-1a alone leaves the high bits poorly mixed for ids that differ in
/// their last characters (`patient-1`, `patient-2` ...); the finaliser
/// spreads every input bit over all output bits.
public enum StableHash {
    public static func of(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { of(bytes: $0) }
    }

    /// The same over bytes (`of(text)` is `of(bytes:)` of its UTF-8).
    @inline(__always)
    public static func of(bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 31)
    }
}

/// SplitMix64: a tiny seeded generator with good statistical quality, the
/// same on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
