import Foundation
import Testing
@testable import SimString

/// A small deterministic generator (SplitMix64), so every run tests the same data.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Strings and queries like those the matcher sends: lexicon terms, the same
/// terms with 1-3 character edits, random word n-grams, and non-ASCII text.
enum ParityData {
    static let words = ["acute", "chronic", "renal", "failure", "heart", "disease", "type", "diabetes", "mellitus",
                        "with", "without", "of", "the", "left", "ventricular", "hypertrophy", "pneumonia", "sepsis",
                        "fracture", "femur", "closed", "open", "aa", "a", "oo", "banana", "anemia", "ödem", "straße",
                        "β-blocker", "sjögren", "ménière", "naïve", "café", "x", "zz"]

    static func term(_ random: inout SeededRandom) -> String {
        (0..<Int.random(in: 1...4, using: &random)).map { _ in words.randomElement(using: &random)! }
            .joined(separator: " ")
    }

    static func edit(_ text: String, _ random: inout SeededRandom) -> String {
        var characters = Array(text)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let alphabet = Array("abcdeilmnorstuéö -")
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where !characters.isEmpty: characters.remove(at: Int.random(in: 0..<characters.count, using: &random))
            case 1: characters.insert(alphabet.randomElement(using: &random)!,
                                      at: Int.random(in: 0...characters.count, using: &random))
            default:
                if !characters.isEmpty {
                    characters[Int.random(in: 0..<characters.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
            }
        }
        return String(characters)
    }

    static func make(seed: UInt64, strings: Int, queries: Int) -> (strings: [String], queries: [String]) {
        var random = SeededRandom(seed: seed)
        var indexed = (0..<strings).map { _ in term(&random) }
        indexed += ["", "a", "aa", "aaa", "aaaa", "abab", "ab ab ab"]
        var asked: [String] = []
        for _ in 0..<queries {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: asked.append(indexed.randomElement(using: &random)!)
            case 1: asked.append(edit(indexed.randomElement(using: &random)!, &random))
            case 2: asked.append(term(&random))
            default: asked.append(edit(term(&random), &random))
            }
        }
        asked += ["", "a", "aaaaa", "ab"]
        return (indexed, asked)
    }
}

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
        var searcher = SimStringSearcher(index: index)
        var checked = 0
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
                    #expect(got == expected, "\(measure) \(threshold) query \"\(query)\"")
                    checked += 1
                }
            }
        }
        #expect(checked == queries.count * 30)
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
