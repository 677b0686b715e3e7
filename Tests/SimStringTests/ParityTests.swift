import Foundation
import Testing
@testable import SimString
import TestSupport

/// SimString's features written the plain way, independently of the index
/// code: the C++ definition, n-gram text with "2", "3" ... appended to
/// repeats, as a set of strings.
func referenceFeatures(_ text: String, _ settings: FeatureSettings) -> Set<[UInt32]> {
    var units: [UInt32] = settings.unicode ? text.unicodeScalars.map(\.value) : Array(text.utf8).map(UInt32.init)
    let n = settings.n
    if settings.marks {
        units = Array(repeating: 1, count: n - 1) + units + Array(repeating: 1, count: n - 1)
    } else if units.count < n {
        units += Array(repeating: 1, count: n - units.count)
    }
    var seen: [[UInt32]: UInt32] = [:]
    var features = Set<[UInt32]>()
    for start in 0...(units.count - n) {
        let gram = Array(units[start..<(start + n)])
        seen[gram, default: 0] += 1
        features.insert(gram + [0xFFFF_FFFF, seen[gram]!])
    }
    return features
}

@Suite struct ParityTests {
    static let configurations: [FeatureSettings] = [
        FeatureSettings(n: 3, marks: false, unicode: true),
        FeatureSettings(n: 3, marks: false, unicode: false),
        FeatureSettings(n: 2, marks: true, unicode: true),
        FeatureSettings(n: 4, marks: true, unicode: false),
    ]

    /// Checks every measure and threshold against a brute-force scan of the
    /// strings' reference features; returns how many searches were checked.
    @discardableResult
    static func expectBruteForceParity(strings: [String], queries: [String], settings: FeatureSettings,
                                       thresholds: [Double] = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]) throws -> Int {
        let path = NSTemporaryDirectory() + "parity-\(UUID().uuidString).simstring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try SimStringIndexBuilder(settings: settings)
        for string in strings { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        #expect(index.count == strings.count)

        let stringFeatures = strings.map { referenceFeatures($0, settings) }
        var checked = 0
        var searcher = SimStringSearcher(index: index)
        for query in queries {
            let queryFeatures = referenceFeatures(query, settings)
            let overlaps = stringFeatures.map { $0.intersection(queryFeatures).count }
            for measure in SimilarityMeasure.allCases {
                for threshold in thresholds {
                    var expected: [Int: Double] = [:]
                    for (id, features) in stringFeatures.enumerated() {
                        let similarity = measure.similarity(overlap: overlaps[id], querySize: queryFeatures.count,
                                                            candidateSize: features.count)
                        if similarity >= threshold { expected[id] = similarity }
                    }
                    let found = try searcher.search(query, measure: measure, threshold: threshold)
                    let got = Dictionary(found.map { ($0.id, $0.similarity) }, uniquingKeysWith: { a, _ in a })
                    #expect(found.count == got.count, "duplicate ids for \(query)")
                    #expect(got == expected, "\(measure) \(threshold) query \"\(query.prefix(60))\"")
                    // Accepting early (no similarities) retrieves the same strings.
                    var bytes = query
                    let quick = try bytes.withUTF8 {
                        try searcher.search(bytes: $0, measure: measure, threshold: threshold, similarities: false)
                    }
                    #expect(Set(quick.map(\.id)) == Set(expected.keys))
                    checked += 1
                }
            }
        }
        return checked
    }

    @Test(arguments: configurations)
    func everyMeasureAndThresholdEqualsABruteForceScan(settings: FeatureSettings) throws {
        let (strings, queries) = ParityData.make(seed: 42, strings: 600, queries: 120)
        let checked = try Self.expectBruteForceParity(strings: strings, queries: queries, settings: settings)
        #expect(checked == queries.count * 30)
    }

    /// Past 254 features a string's ranks are stored as "255 or more", and
    /// its prefix is then read whole: long strings (and their edits, so that
    /// near matches exist) must still equal a brute-force scan.
    @Test func longStringsPastTheStoredRanksEqualABruteForceScan() throws {
        var random = SeededRandom(seed: 5)
        let (short, _) = ParityData.make(seed: 9, strings: 200, queries: 0)
        var strings = short
        var queries: [String] = []
        for _ in 0..<40 {
            let long = (0..<Int.random(in: 60...120, using: &random)).map { _ in ParityData.term(&random) }.joined(separator: " ")
            strings.append(long)
            queries.append(ParityData.edit(long, &random))
            queries.append(String(long.dropFirst(Int.random(in: 0...40, using: &random))))
        }
        #expect(strings.contains { $0.unicodeScalars.count > 400 })
        try Self.expectBruteForceParity(strings: strings, queries: queries, settings: FeatureSettings(n: 3, unicode: true),
                                        thresholds: [0.5, 0.7, 0.9])
    }

    /// Past 65,536 features the index stores 32-bit feature ids for
    /// verification: retrieval must still equal a brute-force scan there.
    @Test func wideFeatureIDsEqualABruteForceScan() throws {
        var random = SeededRandom(seed: 11)
        // Random CJK scalars: nearly every trigram is new.
        func word(_ length: Int) -> String {
            String(String.UnicodeScalarView((0..<length).map { _ in Unicode.Scalar(UInt32.random(in: 0x4E00...0x9FFF, using: &random))! }))
        }
        var strings = (0..<16_000).map { _ in word(7) }
        // Near neighbours of some strings, so that queries find several.
        for id in stride(from: 0, to: 400, by: 4) { strings.append(String(strings[id].dropLast()) + word(1)) }
        let path = NSTemporaryDirectory() + "wide-\(UUID().uuidString).simstring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = FeatureSettings(n: 3, unicode: true)
        var builder = try SimStringIndexBuilder(settings: settings)
        for string in strings { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        #expect(index.featureCount > 1 << 16)
        #expect(index.forwardIDWidth == 4)
        let stringFeatures = strings.map { referenceFeatures($0, settings) }
        var searcher = SimStringSearcher(index: index)
        var found = 0
        for id in stride(from: 0, to: 400, by: 2) {
            let queryFeatures = referenceFeatures(strings[id], settings)
            for measure in SimilarityMeasure.allCases {
                var expected: [Int] = []
                for (candidate, features) in stringFeatures.enumerated() {
                    let overlap = features.intersection(queryFeatures).count
                    if measure.similarity(overlap: overlap, querySize: queryFeatures.count, candidateSize: features.count) >= 0.5 {
                        expected.append(candidate)
                    }
                }
                let got = try searcher.search(strings[id], measure: measure, threshold: 0.5).map(\.id)
                #expect(Set(got) == Set(expected))
                #expect(got.contains(id))
                found += got.count
            }
        }
        #expect(found > 1_000)
    }

    @Test func resultsAreOrderedBySizeThenId() throws {
        let path = NSTemporaryDirectory() + "order-\(UUID().uuidString).simstring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try SimStringIndexBuilder(settings: FeatureSettings(n: 3, unicode: true))
        for string in ["hello world", "hello", "hello", "hell", "yellow", "hello worlds"] { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        let found = try index.search("hello", measure: .overlap, threshold: 0.5)
        #expect(found.map(\.id) == [3, 1, 2, 4, 0, 5])
        #expect(found.map { index.string(of: $0.id) }.first == "hell")
        // Duplicates are kept as separate ids, as the C++ tool does.
        #expect(try index.search("hello", measure: .exact, threshold: 1).map(\.id) == [1, 2])
    }
}
