/// An open-addressing hash table from 64-bit pair keys to counts: linear
/// probing, a multiplicative hash, growth at 70 % load. Co-occurrence adds
/// hundreds of pair counts per sample; Swift's `Dictionary` hashes with
/// SipHash and stores 16-byte entries, several times slower and larger for
/// this one job. Key `UInt64.max` is reserved as the empty slot marker.
struct PairTable {
    private(set) var keys: [UInt64]
    private(set) var counts: [UInt32]
    private(set) var count = 0
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: .max, count: size)
        counts = Array(repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    mutating func add(_ key: UInt64, _ amount: UInt32 = 1) {
        if (count + 1) * 10 > keys.count * 7 { grow() }
        var position = Self.slot(key, mask)
        keys.withUnsafeMutableBufferPointer { keys in
            counts.withUnsafeMutableBufferPointer { counts in
                while true {
                    let stored = keys[position]
                    if stored == key {
                        counts[position] &+= amount
                        return
                    }
                    if stored == .max {
                        keys[position] = key
                        counts[position] = amount
                        count += 1
                        return
                    }
                    position = (position + 1) & mask
                }
            }
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldCounts = counts
        keys = Array(repeating: .max, count: oldKeys.count * 2)
        counts = Array(repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        count = 0
        for index in oldKeys.indices where oldKeys[index] != .max { add(oldKeys[index], oldCounts[index]) }
    }

    func forEach(_ body: (UInt64, UInt32) throws -> Void) rethrows {
        for index in keys.indices where keys[index] != .max { try body(keys[index], counts[index]) }
    }
}
