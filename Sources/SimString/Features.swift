/// How strings are cut into features.
public struct FeatureSettings: Sendable, Equatable, Codable {
    /// Length of the character n-grams.
    public var n: Int
    /// Pad with n-1 begin and end marks (SimString's `-m`).
    public var marks: Bool
    /// Characters are Unicode scalars (SimString's `-u`) instead of bytes.
    public var unicode: Bool

    public init(n: Int = 3, marks: Bool = false, unicode: Bool = false) {
        self.n = n
        self.marks = marks
        self.unicode = unicode
    }

    /// SimString pads with this code unit (0x01), as the C++ code does.
    static let mark: UInt32 = 0x01
}

/// Cuts a string into SimString's features: the n-grams of the (padded)
/// string, a repeated n-gram made unique by its occurrence number (the C++
/// code appends "2", "3", ... to the n-gram's text).
///
/// Works on code units (bytes, or Unicode scalars in Unicode mode) in a
/// reusable buffer, so the hot path allocates nothing per string.
struct FeatureExtractor {
    let settings: FeatureSettings
    /// The padded code units of the current string.
    private(set) var units: [UInt32] = []
    /// Start of each feature's n-gram in `units`.
    private(set) var starts: [Int32] = []
    /// Occurrence number of each feature (1 for the first).
    private(set) var occurrences: [UInt32] = []
    private var order: [Int32] = []
    /// Each n-gram packed into one integer, when it fits (n ≤ 3).
    private var keys: [UInt64] = []

    init(settings: FeatureSettings) { self.settings = settings }

    var count: Int { starts.count }

    /// Extracts the features of `bytes` (UTF-8 text, or any bytes in byte
    /// mode). In Unicode mode invalid UTF-8 is decoded with U+FFFD.
    mutating func extract(_ bytes: UnsafeBufferPointer<UInt8>) {
        let n = settings.n
        units.removeAll(keepingCapacity: true)
        if settings.marks { units.append(contentsOf: repeatElement(FeatureSettings.mark, count: n - 1)) }
        if settings.unicode {
            var decoder = UTF8()
            var iterator = bytes.makeIterator()
            loop: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let scalar): units.append(scalar.value)
                case .error: units.append(0xFFFD)
                case .emptyInput: break loop
                }
            }
        } else {
            for byte in bytes { units.append(UInt32(byte)) }
        }
        let contentCount = units.count - (settings.marks ? n - 1 : 0)
        if settings.marks {
            units.append(contentsOf: repeatElement(FeatureSettings.mark, count: n - 1))
        } else if contentCount < n {
            units.append(contentsOf: repeatElement(FeatureSettings.mark, count: n - contentCount))
        }
        let featureCount = units.count - n + 1
        starts.removeAll(keepingCapacity: true)
        occurrences.removeAll(keepingCapacity: true)
        for start in 0..<featureCount { starts.append(Int32(start)) }
        occurrences.append(contentsOf: repeatElement(1, count: featureCount))
        numberRepeats()
    }

    /// Numbers repeated n-grams 1, 2, 3 ... in order of position.
    private mutating func numberRepeats() {
        let count = starts.count
        guard count > 1 else { return }
        let n = settings.n
        // Short strings: compare with earlier positions directly; with
        // n ≤ 3, as one packed integer per n-gram (21 bits per code unit:
        // any Unicode scalar fits).
        if count <= 48, n <= 3 {
            keys.removeAll(keepingCapacity: true)
            units.withUnsafeBufferPointer { units in
                for start in 0..<count { keys.append(packedNGram(units.baseAddress! + start, n: n)) }
            }
            keys.withUnsafeBufferPointer { keys in
                occurrences.withUnsafeMutableBufferPointer { occurrences in
                    for later in 1..<count {
                        let key = keys[later]
                        var seen: UInt32 = 1
                        for earlier in 0..<later where keys[earlier] == key { seen &+= 1 }
                        occurrences[later] = seen
                    }
                }
            }
            return
        }
        units.withUnsafeBufferPointer { units in
            if count <= 48 {
                for later in 1..<count {
                    var seen: UInt32 = 1
                    for earlier in 0..<later where Self.equal(units, earlier, later, n) { seen += 1 }
                    occurrences[later] = seen
                }
                return
            }
            // Long strings: sort positions by n-gram, then number each run.
            order.removeAll(keepingCapacity: true)
            for start in 0..<count { order.append(Int32(start)) }
            order.sort { a, b in
                for offset in 0..<n {
                    let x = units[Int(a) + offset], y = units[Int(b) + offset]
                    if x != y { return x < y }
                }
                return a < b
            }
            var runStart = 0
            for index in 0..<count {
                if index > 0, !Self.equal(units, Int(order[index - 1]), Int(order[index]), n) { runStart = index }
                occurrences[Int(order[index])] = UInt32(index - runStart + 1)
            }
        }
    }

    @inline(__always)
    private static func equal(_ units: UnsafeBufferPointer<UInt32>, _ a: Int, _ b: Int, _ n: Int) -> Bool {
        for offset in 0..<n where units[a + offset] != units[b + offset] { return false }
        return true
    }

    /// A hash of feature `index` (its n-gram and occurrence number); the
    /// on-disk feature table is laid out by it, so it must never change
    /// without a format version bump.
    func hash(ofFeature index: Int) -> UInt64 {
        units.withUnsafeBufferPointer { units in
            featureHash(units.baseAddress! + Int(starts[index]), n: settings.n, occurrence: occurrences[index])
        }
    }
}

/// An n-gram of at most three code units as one integer, 21 bits a unit
/// (any Unicode scalar fits): equal n-grams, equal integers.
@inline(__always)
func packedNGram(_ units: UnsafePointer<UInt32>, n: Int) -> UInt64 {
    var key: UInt64 = 0
    for offset in 0..<n { key = key &<< 21 | UInt64(units[offset]) }
    return key
}

@inline(__always)
func featureHash(_ units: UnsafePointer<UInt32>, n: Int, occurrence: UInt32) -> UInt64 {
    var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(occurrence)
    for offset in 0..<n {
        hash = (hash ^ UInt64(units[offset])) &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 29
    }
    return hash ^ (hash >> 32)
}
