import Foundation
import Testing
@testable import SimString
import TestSupport

@Suite struct IndexFileTests {
    let path = NSTemporaryDirectory() + "index-\(UUID().uuidString).simstring"

    func buildSample(_ strings: [String] = ["heart failure", "renal failure", "sepsis", "", "ödem"]) throws {
        var builder = try SimStringIndexBuilder(settings: FeatureSettings(n: 3, unicode: true))
        for string in strings { builder.add(string) }
        try builder.write(to: path)
    }

    func corrupt(_ change: (inout Data) -> Void) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        change(&data)
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test func opensAndKeepsSettingsAndStrings() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        try buildSample()
        let index = try SimStringIndex(path: path)
        #expect(index.settings == FeatureSettings(n: 3, marks: false, unicode: true))
        #expect(index.count == 5)
        #expect((0..<5).map(index.string(of:)) == ["heart failure", "renal failure", "sepsis", "", "ödem"])
        // The empty string is one feature (three marks) and retrievable.
        #expect(try index.search("", measure: .exact, threshold: 1).map(\.id) == [3])
        #expect(try index.search("ödem", measure: .cosine, threshold: 1).map(\.id) == [4])
    }

    @Test func truncatedFilesAreRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        try buildSample()
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in [0, 7, 127, 128, full.count / 2, full.count - 1] {
            try full.prefix(length).write(to: URL(fileURLWithPath: path))
            #expect(throws: SimStringError.self, "length \(length)") { _ = try SimStringIndex(path: path) }
        }
    }

    @Test func corruptedBytesAreDetectedByVerificationAndNeverCrashAQuery() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let strings = ["heart failure", "renal failure", "sepsis", "", "ödem", "failure of heart", "septic shock"]
        try buildSample(strings)
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        var refusedAtOpen = 0
        // Every header byte, and a spread of body positions.
        let positions = Array(0..<128) + Array(stride(from: 128, to: size, by: max(1, (size - 128) / 200)))
        for position in positions {
            try buildSample(strings)
            try corrupt { $0[position] ^= 0x5A }
            #expect(throws: SimStringError.self, "byte \(position)") { _ = try SimStringIndex(path: path, verifyChecksum: true) }
            // The fast open checks the header and every offset; a damaged
            // body that passes it may give wrong answers, never a crash.
            guard let index = try? SimStringIndex(path: path) else { refusedAtOpen += 1; continue }
            #expect(throws: SimStringError.self) { try index.verify() }
            var searcher = SimStringSearcher(index: index)
            for query in strings + ["failure", "heart"] {
                for measure in SimilarityMeasure.allCases {
                    for match in try searcher.search(query, measure: measure, threshold: 0.5) {
                        _ = index.string(of: match.id)
                    }
                }
            }
        }
        #expect(refusedAtOpen >= 128)
    }

    @Test func wrongMagicAndVersionAreNamed() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        try buildSample()
        try corrupt { $0[8] = 99 }
        #expect(throws: SimStringError("\(path): index format version 99 is not supported (this tool reads \(IndexFormat.version)); rebuild the index",
                                               isUnsupportedVersion: true)) {
            _ = try SimStringIndex(path: path)
        }
        try "hello\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SimStringError.self) { _ = try SimStringIndex(path: path) }
        #expect(throws: SimStringError.self) { _ = try SimStringIndex(path: path + ".absent") }
    }

    @Test func aOneMegabyteStringIsIndexedAndQueried() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        var random = SeededRandom(seed: 7)
        let huge = String((0..<1_000_000).map { _ in "acgt".randomElement(using: &random)! })
        try buildSample(["short", huge])
        let index = try SimStringIndex(path: path)
        #expect(try index.search(huge, measure: .cosine, threshold: 0.9).map(\.id) == [1])
        #expect(try index.search("short", measure: .jaccard, threshold: 0.5).map(\.id) == [0])
    }

    @Test func invalidThresholdsAreErrors() throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        try buildSample()
        let index = try SimStringIndex(path: path)
        for threshold in [0, -0.5, 1.5, Double.nan] {
            #expect(throws: SimStringError.self) { _ = try index.search("x", measure: .cosine, threshold: threshold) }
        }
    }

    @Test func concurrentQueriesAgreeWithSerialOnes() async throws {
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (strings, queries) = ParityData.make(seed: 3, strings: 400, queries: 200)
        try buildSample(strings)
        let index = try SimStringIndex(path: path)
        let serial = try queries.map { try index.search($0, measure: .jaccard, threshold: 0.6) }
        let parallel = try await withThrowingTaskGroup(of: (Int, [SimStringMatch]).self) { group in
            for (position, query) in queries.enumerated() {
                group.addTask { (position, try index.search(query, measure: .jaccard, threshold: 0.6)) }
            }
            var results = [[SimStringMatch]](repeating: [], count: queries.count)
            for try await (position, matches) in group { results[position] = matches }
            return results
        }
        #expect(parallel == serial)
    }
}

@Suite struct ExtremeThresholdTests {
    @Test(arguments: [ThresholdArithmetic.exact, .simstring])
    func tinyThresholdsNeitherTrapNorMissStrings(arithmetic: ThresholdArithmetic) throws {
        let path = NSTemporaryDirectory() + "tiny-\(UUID().uuidString).simstring"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try SimStringIndexBuilder(settings: FeatureSettings())
        for string in ["ab", "abc", "abcdef", "xyz"] { builder.add(string) }
        try builder.write(to: path)
        let index = try SimStringIndex(path: path)
        for measure in SimilarityMeasure.allCases {
            for query in ["", "a", "ab", "abcdefgh"] {
                _ = try index.search(query, measure: measure, threshold: 1e-300, arithmetic: arithmetic)
            }
        }
        #expect(try index.search("abcd", measure: .overlap, threshold: 1e-300).map(\.id) == [1, 2])
    }
}
