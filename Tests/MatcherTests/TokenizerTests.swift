import Testing
@testable import Matcher

@Suite struct TokenizerTests {
    func texts(_ text: String) -> [String] { Tokenizer.tokenize(text).map(\.text) }

    @Test func splitsClinicalTextTheWayMatchingNeeds() {
        #expect(texts("Pt's BP 120/80, given 2.5 mg b.i.d. by Dr. Smith.")
            == ["Pt", "'s", "BP", "120", "/", "80", ",", "given", "2.5", "mg", "b.i.d.", "by", "Dr.", "Smith", "."])
        #expect(texts("non-small cell (NSCLC) 1,000 units") == ["non", "-", "small", "cell", "(", "NSCLC", ")", "1,000", "units"])
        #expect(texts("non–small") == ["non", "–", "small"])
        #expect(texts("") == [])
        #expect(texts(" \n\t ") == [])
    }

    @Test func offsetsCountUnicodeScalars() {
        let tokens = Tokenizer.tokenize("Ödem 😀 β-blocker")
        #expect(tokens.map(\.start) == [0, 5, 7, 8, 9])
        #expect(tokens.map(\.end) == [4, 6, 8, 9, 16])
        #expect(tokens[1].isPunctuation)
        #expect(tokens[3].isDash)
    }

    @Test func numbersAndNumberWordsAreLikeNumbers() {
        let tokens = Tokenizer.tokenize("two 3.5 x3 seven")
        #expect(tokens.map(\.likeNumber) == [true, true, false, true])
    }
}

@Suite struct SentenceTests {
    func sentences(_ text: String) -> [String] {
        let tokens = Tokenizer.tokenize(text)
        return SentenceSplitter.sentences(tokens).map { range in range.map { tokens[$0].text }.joined(separator: " ") }
    }

    @Test func abbreviationsDecimalsHeadersAndLists() {
        #expect(sentences("Seen by Dr. Smith today. Takes 2.5 mg b.i.d. with food. No fever.")
            == ["Seen by Dr. Smith today .", "Takes 2.5 mg b.i.d. with food .", "No fever ."])
        #expect(sentences("HISTORY:\nasthma since childhood\n\nMEDS:\n- albuterol\n- prednisone 10 mg\n1. follow up")
            == ["HISTORY :", "asthma since childhood", "MEDS :", "- albuterol", "- prednisone 10 mg", "1 . follow up"])
        #expect(sentences("no fever\nFAMILY HISTORY:\nlung cancer\nPlan:\nrest")
            == ["no fever", "FAMILY HISTORY :", "lung cancer", "Plan :", "rest"])
    }
}
