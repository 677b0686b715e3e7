import CPrefetch
import SimString
import TGSupport

/// The retrievals of recent span strings, keyed by the normalised span's
/// bytes (clinical text repeats its phrases: "of the", "history of" ...).
///
/// An open-addressing table over a byte arena rather than a
/// `[String: [SimStringMatch]]`: a lookup hashes the bytes the matcher
/// already holds, with no string built for it, and a hit allocates nothing.
/// When `limit` strings are held, the next insertion empties it.
struct SpanCache {
    /// One stored string: where its bytes and its matches sit (16 bytes;
    /// `keyStart == .max` marks an empty slot).
    private struct Slot {
        var hash: UInt32
        var keyStart: UInt32
        var matchesStart: UInt32
        var keyLength: UInt16
        var matchesCount: UInt16
        static let empty = Slot(hash: 0, keyStart: .max, matchesStart: 0, keyLength: 0, matchesCount: 0)
        var isEmpty: Bool { keyStart == .max }
    }

    private var slots: [Slot]
    private var keys: [UInt8] = []
    private var matches: [SimStringMatch] = []
    private(set) var count = 0
    let limit: Int

    /// At most `maximumLimit` strings (the table then takes 128 MB).
    static let maximumLimit = 1 << 22

    static func clampedLimit(_ limit: Int) -> Int { min(max(1, limit), maximumLimit) }

    init(limit: Int) {
        self.limit = Self.clampedLimit(limit)
        // A power of two at most half full.
        var capacity = 16
        while capacity < self.limit * 2 { capacity *= 2 }
        slots = Array(repeating: .empty, count: capacity)
    }

    /// The hash a key is stored under.
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 { StableHash.of(bytes: key) }

    /// Starts fetching the slot a key with this hash is looked up in first:
    /// the table spans megabytes, and each lookup is otherwise a wait on
    /// memory (the matcher fetches a document's slots before looking any up).
    func prefetch(hash: UInt64) {
        slots.withUnsafeBufferPointer { slots in
            tg_prefetch(slots.baseAddress! + (Int(truncatingIfNeeded: hash) & (slots.count - 1)))
        }
    }

    /// The matches stored for `key`, if any.
    func matches(for key: UnsafeBufferPointer<UInt8>) -> ArraySlice<SimStringMatch>? {
        matches(for: key, hash: Self.hash(key))
    }

    /// The matches stored for `key`, whose `hash(_:)` is `hash`, if any.
    func matches(for key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> ArraySlice<SimStringMatch>? {
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while !slots[index].isEmpty {
            let slot = slots[index]
            if slot.hash == UInt32(truncatingIfNeeded: hash >> 32), equal(slot, key) {
                let start = Int(slot.matchesStart)
                return matches[start..<(start + Int(slot.matchesCount))]
            }
            index = (index + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Stores `found` for `key` (which must not be stored yet); a key or a
    /// match list too long for a slot is not stored.
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ found: [SimStringMatch]) {
        insert(key, hash: Self.hash(key), found)
    }

    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, _ found: [SimStringMatch]) {
        guard key.count <= Int(UInt16.max), found.count <= Int(UInt16.max) else { return }
        if count >= limit || keys.count + key.count >= Int(UInt32.max) || matches.count + found.count >= Int(UInt32.max) {
            removeAll()
        }
        var index = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while !slots[index].isEmpty { index = (index + 1) & (slots.count - 1) }
        slots[index] = Slot(hash: UInt32(truncatingIfNeeded: hash >> 32), keyStart: UInt32(keys.count),
                            matchesStart: UInt32(matches.count), keyLength: UInt16(key.count), matchesCount: UInt16(found.count))
        keys.append(contentsOf: key)
        matches.append(contentsOf: found)
        count += 1
    }

    mutating func removeAll() {
        for index in slots.indices { slots[index] = .empty }
        keys.removeAll(keepingCapacity: true)
        matches.removeAll(keepingCapacity: true)
        count = 0
    }

    private func equal(_ slot: Slot, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Int(slot.keyLength) == key.count else { return false }
        return keys.withUnsafeBufferPointer { keys in
            let start = Int(slot.keyStart)
            for offset in 0..<key.count where keys[start + offset] != key[offset] { return false }
            return true
        }
    }
}
