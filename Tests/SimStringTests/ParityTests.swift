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

    @Test(arguments: configurations)
    func everyMeasureAndThresholdEqualsABruteForceScan(settings: FeatureSettings) throws {
        let (strings, queries) = ParityData.make(seed: 42, strings: 600, queries: 120)
        let path = NSTemporaryDirectory() + "parity-\(UUID().uuidString).simstring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try SimStringIndexBuilder(settings: settings)
        for string in strings { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        #expect(index.count == strings.count)

        let stringFeatures = strings.map { referenceFeatures($0, settings) }
        var checked = 0
        for verification in [SimStringSearcher.Verification.whenCheaper, .always, .never] {
            var searcher = SimStringSearcher(index: index)
            searcher.verification = verification
            for query in queries {
                let queryFeatures = referenceFeatures(query, settings)
                let overlaps = stringFeatures.map { $0.intersection(queryFeatures).count }
                for measure in SimilarityMeasure.allCases {
                    for threshold in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
                        var expected: [Int: Double] = [:]
                        for (id, features) in stringFeatures.enumerated() {
                            let similarity = measure.similarity(overlap: overlaps[id], querySize: queryFeatures.count,
                                                                candidateSize: features.count)
                            if similarity >= threshold { expected[id] = similarity }
                        }
                        let found = try searcher.search(query, measure: measure, threshold: threshold)
                        let got = Dictionary(found.map { ($0.id, $0.similarity) }, uniquingKeysWith: { a, _ in a })
                        #expect(found.count == got.count, "duplicate ids for \(query)")
                        #expect(got == expected, "\(measure) \(threshold) \(verification) query \"\(query)\"")
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
        }
        #expect(checked == queries.count * 30 * 3)
    }

    /// Past 65,536 features the index stores 32-bit ids for verification:
    /// both retrieval paths must still agree there.
    @Test func wideFeatureIDsVerifyLikeThePostingLists() throws {
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
        var builder = try SimStringIndexBuilder(settings: FeatureSettings(n: 3, unicode: true))
        for string in strings { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        #expect(index.featureCount > 1 << 16)
        #expect(index.forwardIDWidth == 4)
        var verifying = SimStringSearcher(index: index), merging = SimStringSearcher(index: index)
        verifying.verification = .always
        merging.verification = .never
        var found = 0
        for id in stride(from: 0, to: 400, by: 2) {
            for measure in SimilarityMeasure.allCases {
                let expected = try merging.search(strings[id], measure: measure, threshold: 0.5)
                #expect(try verifying.search(strings[id], measure: measure, threshold: 0.5) == expected)
                #expect(expected.contains { $0.id == id })
                found += expected.count
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
