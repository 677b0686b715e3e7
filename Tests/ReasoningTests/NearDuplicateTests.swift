import Foundation
import Testing
@testable import Reasoning
import Runtime

/// Near copies among kept chains: marked against the first, across samples.
@Suite struct NearDuplicateTests {
    static let chain = """
        ## Extraction
        **Laboratory Test Events [2025-11-17 17:00:00]**: glucose 134 mg/dL, above the upper limit of 99 mg/dL, with potassium
        at 5.4 mmol/L and sodium at 134 mmol/L on the morning panel of the second hospital day.
        ## Reasoning
        The patient is a 75-year-old woman admitted with decompensated heart failure whose oxygen requirement persists; the
        rising potassium and falling sodium under loop diuretics point to a change of her diuretic and a review of her
        angiotensin receptor blocker, while the hyperglycaemia suggests a correction scale of insulin during the stay.
        ## Final Results
        - Furosemide
        - Insulin
        """

    static let other = """
        ## Extraction
        **Microbiology Test Events [2025-03-02 09:00:00]**: blood cultures grew gram-negative rods in two of two sets.
        ## Reasoning
        Fever with rigors and a urinary source in an elderly man suggests urosepsis; broad gram-negative cover is needed.
        ## Final Results
        - Piperacillin-Tazobactam
        """

    @Test func copiesAndNearCopiesAreMarkedDistinctChainsAreNot() throws {
        var finder = NearDuplicates(threshold: 0.8)
        let edited = Self.chain.replacingOccurrences(of: "decompensated", with: "acute")
        // Added in any order, the chain of the smallest name is the original.
        for (text, name) in [(edited, "s2#0"), (Self.other, "s3#0"), (Self.chain, "s1#1"), ("Too short.", "s4#0"), (Self.chain, "s1#0")] {
            finder.add(text, name: name, task: "labevents")
        }
        let marks = finder.marks()
        #expect(Set(marks.keys) == ["s1#1", "s2#0"], "\(marks)")
        #expect(marks["s1#1"]?.of == "s1#0" && marks["s1#1"]?.similarity == 1)
        let near = try #require(marks["s2#0"])
        #expect(near.of == "s1#0" && near.similarity >= 0.8 && near.similarity < 1)
    }

    @Test func theMarkIsWrittenAndReadInFilterRecords() throws {
        var verdict = VerdictRecord.Verdict(reasons: [])
        verdict.nearDuplicate = VerdictRecord.NearDuplicate(of: "s1#0", similarity: 0.9375)
        let record = VerdictRecord(id: "s2", task: "labevents", verdicts: [verdict])
        #expect(record.json.jsonText.contains(#""near_duplicate_of":{"chain":"s1#0","similarity":0.938}"#))
        let read = try VerdictRecord(json: record.json, file: "filter.jsonl", line: 1)
        #expect(read.verdicts[0].nearDuplicate?.of == "s1#0")
    }
}
