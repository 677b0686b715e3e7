import Foundation
import Testing
@testable import Reasoning
import Runtime

/// The grounding check on hand-written chains: what a chain cites and
/// quotes must be in the context it was given.
@Suite struct GroundingTests {
    static let context = """
        ## Patient Demographics
        - Age: 75
        - Gender: Female

        ## Admissions [2025-11-16 17:03:00]
        - Admission_Type: inpatient encounter
        - Reason: Heart failure, unspecified

        ## Online Medical Record [2025-11-17 16:58:53]
        | Result_Name | Result_Value |
        | ------ | ------ |
        | Supplemental oxygen flow rate | 2.6 L/min |
        | Heart rate | 106 /min |

        ## Laboratory Test Events [2025-11-17 17:00:00]
        - Item_Name: Glucose [Mass/volume] in Serum or Plasma
        - Value: 134
        - Valueuom: mg/dL
        - Ref_Range_Lower: 70
        - Ref_Range_Upper: 99

        ## Notes [2025-11-17 17:03:00]
        O: BP 146/85 mmHg, HR 110/min, T 36.2°C, SpO2 96%, RR 17/min
        Notable labs today: K 5.4 mmol/L [H], Na 134.0 mmol/L [L].
        """

    static func chain(extraction: String, reasoning: String = "The patient is in heart failure.") -> String {
        """
        ## Extraction
        \(extraction)

        ## Reasoning
        \(reasoning)

        ## Final Results
        - Furosemide
        """
    }

    static func judge(_ text: String, minimum: Double = 0.75) -> Verdict {
        var filter = ChainFilter(leakPhrases: [])
        filter.minimumGrounding = minimum
        return filter.judge(text: text, finishReason: "stop", format: .sections, targets: ["Furosemide"], targetCodes: [],
                            knowledge: [], context: context)
    }

    @Test func aFaithfulChainIsFullyGrounded() throws {
        let verdict = Self.judge(Self.chain(extraction: """
            **Laboratory Test Events [2025-11-17 17:00:00]**: glucose 134 mg/dL, above the upper limit of 99 mg/dL.
            **Online Medical Record [2025-11-17 16:58]**: heart rate 106 /min on 2.6 L/min of oxygen.
            **Notes [2025-11-17 17:03:00]**: potassium 5.4 mmol/L, SpO2 96%, temperature 36.2°C.
            """, reasoning: "Hyperkalemia (K 5.40 mmol/L) in a 75-year-old with heart failure calls for a diuretic."))
        let grounding = try #require(verdict.grounding)
        #expect(grounding.cited == 3 && grounding.citedFound == 3, "\(grounding.unsupported)")
        #expect(grounding.values == 8 && grounding.valuesMatched == 8, "\(grounding.unsupported)")
        #expect(grounding.score == 1 && verdict.kept, "\(verdict.reasons)")
    }

    @Test func anInventedValueIsCaught() throws {
        let verdict = Self.judge(Self.chain(extraction: """
            **Laboratory Test Events [2025-11-17 17:00:00]**: glucose 412 mg/dL.
            **Notes [2025-11-17 17:03:00]**: creatinine 3.1 mg/dL, sodium 134 mmol/L.
            """))
        let grounding = try #require(verdict.grounding)
        #expect(grounding.values == 3 && grounding.valuesMatched == 1)
        #expect(grounding.unsupported.contains("412 mg/dL: no such value in the context"))
        #expect(grounding.unsupported.contains("3.1 mg/dL: no such value in the context"))
        #expect(!verdict.kept && verdict.reasons.first { $0.hasPrefix("grounding 0.60 < 0.75") } != nil, "\(verdict.reasons)")
    }

    @Test func anEventCitedAtAWrongTimeIsCaught() throws {
        let verdict = Self.judge(Self.chain(extraction: """
            **Laboratory Test Events [2025-11-15 09:00:00]**: glucose 134 mg/dL.
            **Microbiology Test Events [2025-11-17 17:00:00]**: blood cultures positive.
            """), minimum: 1)
        let grounding = try #require(verdict.grounding)
        #expect(grounding.cited == 2 && grounding.citedFound == 0)
        #expect(grounding.unsupported == [
            "**Laboratory Test Events [2025-11-15 09:00:00]**: no such event at that time",
            "**Microbiology Test Events [2025-11-17 17:00:00]**: no such event",
        ])
        #expect(!verdict.kept)
    }

    @Test func citationsToleratesTheirSpellings() {
        let events = ContextEvents(rendered: Self.context)
        // The table name, the date alone, minutes without seconds, another separator.
        #expect(events.has(name: "labevents", time: "2025-11-17").atTime)
        #expect(events.has(name: "Laboratory test events", time: "2025-11-17T17:00").atTime)
        #expect(events.has(name: "online medical record", time: "2025/11/17 16:58:53").atTime)
        #expect(!events.has(name: "Laboratory Test Events", time: "2025-11-17 18:00").atTime)
    }

    @Test func numbersThatAreNotQuotedValuesAreNotChecked() {
        // Dates, times, ages, counts and ratios without a unit carry no claim to check.
        let values = Grounding.quotedValues(in: "On 2025-11-17 at 17:00, 3 days after admission, a 75-year-old, BP 146/85 mmHg.")
        #expect(values.map(\.2) == ["85 mmHg"] || values.isEmpty, "\(values)")
        let quoted = Grounding.quotedValues(in: "glucose 134 mg/dL (H), SpO2 96%, T 36.2 °C, K 5.4 mmol/L.")
        #expect(quoted.map(\.0) == [134, 96, 36.2, 5.4])
    }

    @Test func aChainThatClaimsNothingHasNoScore() throws {
        let verdict = Self.judge(Self.chain(extraction: "The patient has heart failure."))
        #expect(try #require(verdict.grounding).score == nil && verdict.kept)
    }

    @Test func theReferenceRulesDoNotCheckGrounding() {
        var filter = ChainFilter(leakPhrases: [])
        filter.rules = FilterRule.reference
        let verdict = filter.judge(text: Self.chain(extraction: "**Labevents [2020-01-01 00:00]**: glucose 999 mg/dL."),
                                   finishReason: "stop", format: .sections, targets: ["Furosemide"], targetCodes: [], knowledge: [],
                                   context: Self.context)
        #expect(verdict.grounding == nil && verdict.kept)
    }

    @Test func groundingIsWrittenAndReadInFilterRecords() throws {
        let verdict = Self.judge(Self.chain(extraction: "**Laboratory Test Events [2025-11-17 17:00:00]**: glucose 412 mg/dL."))
        let record = VerdictRecord(id: "s1", task: "prescriptions", verdicts: [verdict.record])
        let read = try VerdictRecord(json: record.json, file: "filter.jsonl", line: 1)
        #expect(read == record)
        #expect(record.json.jsonText.contains(#""grounding":{"score":0.5,"cited":1,"cited_found":1,"values":1,"values_matched":0"#))
    }
}
