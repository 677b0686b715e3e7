import Foundation
import Testing
@testable import Lexicon
@testable import Matcher
@testable import SimString
import TestSupport

/// A lexicon built from a small OBO file, with the shipped context rules.
final class MatcherFixture: Sendable {
    let folder: String
    let matcher: ConceptMatcher

    init(options: ConceptMatcher.Options = ConceptMatcher.Options()) throws {
        folder = NSTemporaryDirectory() + "matcher-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try TestOntology.clinical.write(toFile: folder + "/mini.obo", atomically: true, encoding: .utf8)
        var build = LexiconBuildOptions()
        build.normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
        try LexiconBuilder(sources: LexiconSources(obo: [folder + "/mini.obo"]), options: build)
            .build(into: folder + "/lexicon")
        let store = try LexiconStore(directory: folder + "/lexicon")
        matcher = try ConceptMatcher(lexicon: store, context: ContextRules.standard(), options: options)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    func match(_ text: String) throws -> [(text: String, cui: String, context: MentionContext)] {
        let scalars = Array(text.unicodeScalars)
        return try matcher.match(text).map { mention in
            (String(String.UnicodeScalarView(scalars[mention.start..<mention.end])), mention.cui, mention.context)
        }
    }
}

@Suite struct ConceptMatcherTests {
    @Test func findsConceptsWithOffsetsIntoTheInput() throws {
        let fixture = try MatcherFixture()
        let found = try fixture.match("Admitted with fever and headache.")
        #expect(found.map(\.text) == ["fever", "headache"])
        #expect(found.map(\.cui) == ["C0015967", "C0018681"])
        let mentions = try fixture.matcher.match("Admitted with fever and headache.")
        #expect(mentions[0].start == 14 && mentions[0].end == 19)
        #expect(mentions[0].similarity == 1 && mentions[0].preferred)
        #expect(mentions[0].preferredName == "Fever")
    }

    @Test func approximateMatchesReachTheThreshold() throws {
        let fixture = try MatcherFixture()
        // One-letter typo: "pneumonai" shares enough trigrams at 0.5, not at 0.7.
        #expect(try fixture.match("likely pneumonai").isEmpty)
        var options = ConceptMatcher.Options()
        options.threshold = 0.5
        let loose = try MatcherFixture(options: options)
        #expect(try loose.match("likely pneumonai").map(\.cui) == ["C0032285"])
    }

    @Test func negationScopesStopAtTerminatorsAndSentenceEnds() throws {
        let fixture = try MatcherFixture()
        let found = try fixture.match("Patient denies fever but reports headache. Seizures noted.")
        #expect(found.map(\.text) == ["fever", "headache", "Seizures"])
        #expect(found.map(\.context.negated) == [true, false, false])
        let ruledOut = try fixture.match("Pneumonia was ruled out. No evidence of heart failure.")
        #expect(ruledOut.map(\.context.negated) == [true, true])
        // Pseudo-trigger: "no increase in" does not negate.
        #expect(try fixture.match("There was no increase in headache frequency.").map(\.context.negated) == [false])
    }

    @Test func hypotheticalHistoricalAndFamilyContexts() throws {
        let fixture = try MatcherFixture()
        let found = try fixture.match("""
            Return if fever develops. History of seizures. Mother had breast cancer.
            FAMILY HISTORY:
            lung cancer in several relatives
            PLAN:
            treat pneumonia
            """)
        #expect(found.map(\.text) == ["fever", "seizures", "breast cancer", "lung cancer", "pneumonia"])
        #expect(found.map(\.context.hypothetical) == [true, false, false, false, false])
        #expect(found.map(\.context.historical) == [false, true, false, false, false])
        #expect(found.map(\.context.family) == [false, false, true, true, false])
    }

    @Test func overlappingCandidatesAreResolvedByScoreOrLength() throws {
        let fixture = try MatcherFixture()
        #expect(try fixture.match("congestive heart failure").map(\.cui) == ["C0018802"])
        var options = ConceptMatcher.Options()
        options.allMatches = true
        let all = try MatcherFixture(options: options)
        let cuis = Set(try all.match("congestive heart failure").map(\.cui))
        #expect(cuis == ["C0018802", "C0018801"])
        options = ConceptMatcher.Options()
        options.overlap = .length
        options.threshold = 0.6
        let byLength = try MatcherFixture(options: options)
        #expect(try byLength.match("congestive heart failures").map(\.text) == ["congestive heart failures"])
    }

    @Test func unicodeDashesMatchTheirASCIIForm() throws {
        // "non", "–", "small", "cell", "lung", "carcinoma": six tokens.
        var options = ConceptMatcher.Options()
        options.window = 6
        let fixture = try MatcherFixture(options: options)
        let found = try fixture.match("Known non\u{2013}small cell lung carcinoma, stable.")
        #expect(found.map(\.cui) == ["C0242379"])
        #expect(found.first?.text == "non\u{2013}small cell lung carcinoma")
    }

    @Test func spansNeitherStartAloneWithStopwordsOrNumbersNorEndInPunctuation() throws {
        let fixture = try MatcherFixture()
        let tokens = Tokenizer.tokenize("the 2 fevers, with headache")
        let spans = fixture.matcher.candidateSpans(tokens).map { fixture.matcher.spanText(tokens, $0) }
        #expect(!spans.contains("the"))
        #expect(!spans.contains("2"))
        #expect(spans.contains("the 2 fevers"))
        #expect(!spans.contains { $0.hasSuffix(",") || $0.contains(", ") })
        #expect(!spans.contains { $0.hasSuffix(" with") })
        #expect(spans.contains("with headache"))
    }

    @Test func spansNormaliseAsTheirWholeTextWould() throws {
        let fixture = try MatcherFixture()
        let texts = ["Pt. has FEVER, non-small cell CA (b.i.d.) 2.5mg", "Ωmega ΣΊΣΥΦΟΣ Straße naïve café–bar", "x\u{00A0}y\u{2003}z",
                     "ПРИВЕТ мир", "a\tb\u{0B}c", "Dr.Smith's", "e\u{301}cole ﬁbrosis", "A\u{01}B \u{1F}C"]
        for lowercase in [true, false] {
            let normalizer = TermNormalizer(lowercase: lowercase, asciiTransliteration: true)
            for text in texts {
                let tokens = Tokenizer.tokenize(text)
                let normalized = ConceptMatcher.NormalizedTokens(tokens, normalizer: normalizer)
                for start in tokens.indices {
                    for end in (start + 1)...min(tokens.count, start + 5) {
                        var bytes: [UInt8] = []
                        let whole = normalizer.normalize(fixture.matcher.spanText(tokens, start..<end))
                        if normalized.appendSpan(start..<end, of: tokens, to: &bytes) {
                            #expect(String(decoding: bytes, as: UTF8.self) == whole, "\(text) \(start)..<\(end)")
                        } else {
                            #expect(bytes.isEmpty && tokens[start..<end].contains { !$0.text.unicodeScalars.allSatisfy(\.isASCII) })
                        }
                    }
                }
            }
        }
    }

    @Test func theSpanCacheFindsWhatItStoredAndEmptiesWhenFull() {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        var cache = SpanCache(limit: 3)
        let fever = [SimStringMatch(id: 7, similarity: 1)], none: [SimStringMatch] = []
        bytes("fever").withUnsafeBufferPointer { cache.insert($0, fever) }
        bytes("of the").withUnsafeBufferPointer { cache.insert($0, none) }
        #expect(bytes("fever").withUnsafeBufferPointer { cache.matches(for: $0) }.map(Array.init) == fever)
        #expect(bytes("of the").withUnsafeBufferPointer { cache.matches(for: $0) }.map(Array.init) == [])
        #expect(bytes("feve").withUnsafeBufferPointer { cache.matches(for: $0) } == nil)
        #expect(bytes("").withUnsafeBufferPointer { cache.matches(for: $0) } == nil)
        bytes("headache").withUnsafeBufferPointer { cache.insert($0, fever + fever) }
        #expect(cache.count == 3)
        // Full: the next insertion starts over.
        bytes("seizure").withUnsafeBufferPointer { cache.insert($0, none) }
        #expect(cache.count == 1)
        #expect(bytes("fever").withUnsafeBufferPointer { cache.matches(for: $0) } == nil)
        #expect(bytes("seizure").withUnsafeBufferPointer { cache.matches(for: $0) }.map(Array.init) == [])
        // Many keys, all found again with their own matches.
        var large = SpanCache(limit: 5_000)
        for index in 0..<5_000 {
            bytes("span \(index)").withUnsafeBufferPointer { large.insert($0, [SimStringMatch(id: index, similarity: 0.8)]) }
        }
        let allFound = (0..<5_000).allSatisfy { (index: Int) -> Bool in
            let found = bytes("span \(index)").withUnsafeBufferPointer { large.matches(for: $0) }
            return found?.first?.id == index
        }
        #expect(allFound)
        #expect(SpanCache.clampedLimit(.max) == SpanCache.maximumLimit && SpanCache(limit: -3).limit == 1)
    }

    @Test func emptyAndHugeDocuments() throws {
        let fixture = try MatcherFixture()
        #expect(try fixture.matcher.match("").isEmpty)
        #expect(try fixture.matcher.match("   \n\n ").isEmpty)
        let huge = String(repeating: "The patient has fever and no headache today. ", count: 4_000)
        let mentions = try fixture.matcher.match(huge)
        #expect(mentions.count == 8_000)
        #expect(mentions.filter(\.context.negated).count == 4_000)
        #expect(mentions.last!.end <= huge.unicodeScalars.count)
    }

    @Test func oneMatcherServesManyThreads() async throws {
        let fixture = try MatcherFixture()
        let texts = (0..<64).map { "Case \($0): fever, no seizures, history of heart failure." }
        let serial = try texts.map { try fixture.matcher.match($0) }
        let parallel = try await withThrowingTaskGroup(of: (Int, [Mention]).self) { group in
            for (position, text) in texts.enumerated() {
                group.addTask { (position, try fixture.matcher.match(text)) }
            }
            var results = [[Mention]](repeating: [], count: texts.count)
            for try await (position, mentions) in group { results[position] = mentions }
            return results
        }
        #expect(parallel == serial)
    }
}

@Suite struct ContextRulesTests {
    @Test func badRuleFilesNameTheLine() {
        #expect(throws: ContextRulesError.self) { _ = try ContextRules(text: "no\tnegated\n", file: "rules.tsv") }
        do {
            _ = try ContextRules(text: "# c\nno\tnegated\tforward\nmaybe\tdoubtful\tforward\n", file: "rules.tsv")
            Issue.record("expected an error")
        } catch let error as ContextRulesError {
            #expect(error.description == "rules.tsv:3: unknown category doubtful")
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: ContextRulesError.self) { _ = try ContextRules(text: "x\tnegated\tforward\t0\n", file: "r") }
    }

    @Test func theShippedRulesLoad() throws {
        let rules = try ContextRules.standard()
        #expect(rules.triggers.count > 40)
        #expect(rules.triggers.first!.words.count >= rules.triggers.last!.words.count)
    }
}
