import TGSupport

/// Finds chains that are near copies of an earlier chain, of the same
/// sample or another: word 5-gram shingles, a 32-hash MinHash signature per
/// chain and banded locality-sensitive hashing (8 bands of 4) to find
/// candidates, then the signatures' agreement as the Jaccard estimate.
///
/// A model asked three times often answers three times alike, and a small
/// model writes one chain for many samples; curators want to know before
/// they train on them. Marked, not removed: the first of a group is the
/// original. Memory: 128 bytes a chain plus the band index.
public struct NearDuplicates: Sendable {
    public static let hashes = 32, bands = 8
    static let rows = hashes / bands

    /// Least estimated Jaccard similarity of shingles to mark a chain.
    public var threshold: Double

    private var signatures: [[UInt32]] = []
    private var names: [String] = []
    private var buckets: [UInt64: [Int32]] = [:]

    public init(threshold: Double = 0.8) { self.threshold = threshold }

    /// The chain's MinHash signature (nil for a chain of fewer than 5 words).
    static func signature(_ text: String) -> [UInt32]? {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        guard words.count >= 5 else { return nil }
        var minimum = [UInt32](repeating: .max, count: hashes)
        for start in 0...(words.count - 5) {
            let shingle = StableHash.of(words[start..<(start + 5)].joined(separator: " "))
            for index in 0..<hashes {
                // A family of hash functions: the shingle's hash remixed with each index.
                var generator = SplitMix64(seed: shingle &+ UInt64(index) &* 0xD6E8_FEB8_6659_FD93)
                let value = UInt32(truncatingIfNeeded: generator.next() >> 32)
                if value < minimum[index] { minimum[index] = value }
            }
        }
        return minimum
    }

    /// Records `text` as chain `name`; returns the earlier chain it nearly
    /// copies, with the estimated similarity, if any.
    public mutating func add(_ text: String, name: String) -> (of: String, similarity: Double)? {
        guard let signature = Self.signature(text) else { return nil }
        var best: (Int, Double)?
        var keys: [UInt64] = []
        for band in 0..<Self.bands {
            var key = UInt64(band)
            for row in 0..<Self.rows {
                var generator = SplitMix64(seed: key &* 31 &+ UInt64(signature[band * Self.rows + row]))
                key = generator.next()
            }
            keys.append(key)
            for candidate in buckets[key] ?? [] {
                let other = signatures[Int(candidate)]
                let agree = zip(signature, other).filter { $0 == $1 }.count
                let similarity = Double(agree) / Double(Self.hashes)
                if similarity >= threshold, best.map({ similarity > $0.1 }) ?? true { best = (Int(candidate), similarity) }
            }
        }
        let index = Int32(signatures.count)
        signatures.append(signature)
        names.append(name)
        for key in keys { buckets[key, default: []].append(index) }
        return best.map { (names[$0.0], $0.1) }
    }
}
