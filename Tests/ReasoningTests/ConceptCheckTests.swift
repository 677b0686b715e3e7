import Foundation
import Testing
@testable import Lexicon
@testable import Matcher
@testable import Reasoning
import Runtime
import TestSupport

/// The grounding check's concept part on hand-written chains, with a real
/// lexicon (built from the test ontology) and the shipped context rules.
@Suite struct ConceptCheckTests {
    /// A lexicon of eight findings in a temporary folder, and the check.
    final class Fixture: Sendable {
        let folder: String
        let check: ConceptCheck

        init() throws {
            folder = NSTemporaryDirectory() + "concept-check-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try TestOntology.clinical.write(toFile: folder + "/mini.obo", atomically: true, encoding: .utf8)
            var build = LexiconBuildOptions()
            build.normalizer = TermNormalizer(lowercase: true, asciiTransliteration: true)
            try LexiconBuilder(sources: LexiconSources(obo: [folder + "/mini.obo"]), options: build).build(into: folder + "/lexicon")
            let store = try LexiconStore(directory: folder + "/lexicon")
            check = try ConceptCheck(matcher: ConceptMatcher(lexicon: store, context: ContextRules.standard(),
                                                             options: ConceptMatcher.Options()))
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }
    }

    static let context = """
        ## Patient Demographics
        - Age: 68
        - Gender: Male

        ## Admissions [2025-03-02 08:00:00]
        - Reason: Pneumonia

        ## Notes [2025-03-02 09:30:00]
        Febrile overnight, fever 38.9 °C. Complains of headache. No seizures.
        """
    /// The sample asks for the next diagnoses; heart failure is the answer.
    static let targets = ["Congestive heart failure", "Pneumonia"]

    static func chain(extraction: String, reasoning: String) -> String {
        """
        ## Extraction
        \(extraction)

        ## Reasoning
        \(reasoning)

        ## Final Results
        - Congestive heart failure
        - Pneumonia
        """
    }

    static func judge(_ text: String, knowledge: [String] = [], fixture: Fixture) throws -> Verdict {
        var filter = ChainFilter(leakPhrases: [])
        filter.conceptCheck = fixture.check
        let given = try fixture.check.given(context: context, knowledge: knowledge, targets: targets)
        return try filter.judge(text: text, finishReason: "stop", format: .sections, targets: targets, targetCodes: [],
                                knowledge: knowledge, contextEvents: ContextEvents(rendered: context), given: given)
    }

    @Test func aFaithfulChainStatesOnlyWhatTheRecordHolds() throws {
        let fixture = try Fixture()
        let verdict = try Self.judge(Self.chain(
            extraction: "**Notes [2025-03-02 09:30:00]**: fever of 38.9 °C and headache; admitted for pneumonia.",
            reasoning: "Fever with pneumonia in a 68-year-old; the strain on the heart makes congestive heart failure likely."),
            fixture: fixture)
        let grounding = try #require(verdict.grounding)
        // Fever, headache, pneumonia: in the context. Heart failure only
        // as a prediction ("likely"), which a chain may make.
        #expect(grounding.concepts == 3 && grounding.conceptsSupported == 3, "\(grounding.unsupported)")
        #expect(grounding.score == 1 && verdict.kept, "\(verdict.reasons)")
    }

    @Test func aConceptOnlyInTheTargetsIsReasoningBackwards() throws {
        let fixture = try Fixture()
        let verdict = try Self.judge(Self.chain(
            extraction: "**Notes [2025-03-02 09:30:00]**: fever and headache. The patient has congestive heart failure.",
            reasoning: "Known congestive heart failure and pneumonia explain the fever."),
            fixture: fixture)
        let grounding = try #require(verdict.grounding)
        #expect(grounding.concepts == 4 && grounding.conceptsSupported == 3)
        #expect(grounding.unsupported == ["congestive heart failure: \(ConceptCheck.backwardsMark)"])
        // One cited event found, three of four concepts: 4 of 5 claims.
        #expect(grounding.score == 0.8)
        var strict = ChainFilter(leakPhrases: [])
        strict.minimumGrounding = 0.9
        strict.conceptCheck = fixture.check
        let given = try fixture.check.given(context: Self.context, knowledge: [], targets: Self.targets)
        let rejected = try strict.judge(text: Self.chain(extraction: "The patient has congestive heart failure.", reasoning: "It explains the fever."),
                                        finishReason: "stop", format: .sections, targets: Self.targets, targetCodes: [], knowledge: [],
                                        contextEvents: ContextEvents(rendered: Self.context), given: given)
        #expect(!rejected.kept && rejected.reasons.contains { $0.contains("reasoning backwards") }, "\(rejected.reasons)")
    }

    @Test func aTargetReachedThroughAKnowledgePathIsSupported() throws {
        let fixture = try Fixture()
        let text = Self.chain(extraction: "Fever and headache; congestive heart failure follows from the pneumonia.",
                              reasoning: "Pneumonia strains the heart.")
        let without = try #require(try Self.judge(text, fixture: fixture).grounding)
        #expect(without.concepts - without.conceptsSupported == 1)
        let with = try #require(try Self.judge(text, knowledge: ["pneumonia -> may cause -> congestive heart failure"],
                                               fixture: fixture).grounding)
        #expect(with.concepts == 4 && with.conceptsSupported == 4, "\(with.unsupported)")
    }

    @Test func negatedAndGeneralConceptsAreNotClaims() throws {
        let fixture = try Fixture()
        // "No breast cancer": negated. Seizures: in the context (negated
        // there, which the check does not weigh). Lung cancer: in neither
        // the record nor the answer, so general knowledge, not counted.
        let grounding = try #require(try Self.judge(Self.chain(
            extraction: "No breast cancer. Seizures were looked for.",
            reasoning: "Lung cancer can also cause fever."), fixture: fixture).grounding)
        #expect(grounding.concepts == 2 && grounding.conceptsSupported == 2, "\(grounding.unsupported)")
    }

    @Test func theVerdictRecordKeepsTheConceptCounts() throws {
        var grounding = Grounding()
        grounding.cited = 1
        grounding.citedFound = 1
        grounding.concepts = 3
        grounding.conceptsSupported = 2
        grounding.unsupported = ["heart failure: \(ConceptCheck.backwardsMark)"]
        let verdict = VerdictRecord.Verdict(reasons: [], coverage: 1, code: nil, level: nil, grounding: grounding)
        let record = VerdictRecord(id: "s1", task: "diagnoses_icd", verdicts: [verdict])
        let read = try VerdictRecord(json: record.json, file: "filter.jsonl", line: 1)
        #expect(read.verdicts[0].grounding == grounding)
        #expect(read.verdicts[0].grounding?.score == 0.75)
    }
}

extension ConceptCheckTests {
    /// An expected item the lexicon lacks (a laboratory's LOINC name) is
    /// found by its own words; said as a prediction, it is no claim.
    @Test func anExpectedItemTheLexiconLacksIsFoundByItsWords() throws {
        let fixture = try Fixture()
        let targets = ["C reactive protein [Mass/volume] in Serum or Plasma", "Sodium [Moles/volume] in Serum or Plasma"]
        let context = Self.context + "\n\n## Laboratory Test Events [2025-03-02 10:00:00]\n- Item_Name: Sodium [Moles/volume] in Serum or Plasma\n- Value: 134"
        let given = try fixture.check.given(context: context, knowledge: [], targets: targets)
        let stated = try fixture.check.check(
            claims: "The patient has C reactive protein [Mass/volume] in Serum or Plasma raised, and sodium [moles/volume] in serum or plasma of 134.",
            given: given)
        #expect(stated.asserted == 2 && stated.supported == 1)
        #expect(stated.backwards == ["C reactive protein [Mass/volume] in Serum or Plasma: \(ConceptCheck.backwardsMark)"])
        let predicted = try fixture.check.check(claims: "A C reactive protein [Mass/volume] in Serum or Plasma is likely to be ordered next.",
                                                given: given)
        #expect(predicted.asserted == 0 && predicted.backwards.isEmpty)
    }
}

extension ConceptCheckTests {
    /// The answer names the targets; only what comes before it is checked.
    @Test func theAnswerItselfIsNoClaim() throws {
        let fixture = try Fixture()
        var filter = ChainFilter(leakPhrases: [])
        filter.conceptCheck = fixture.check
        let given = try fixture.check.given(context: Self.context, knowledge: [], targets: Self.targets)
        func judge(_ text: String, _ format: AnswerFormat) throws -> Grounding {
            try #require(try filter.judge(text: text, finishReason: "stop", format: format, targets: Self.targets, targetCodes: [],
                                          knowledge: [], contextEvents: ContextEvents(rendered: Self.context), given: given).grounding)
        }
        let honest = try judge("Fever and headache with pneumonia. Therefore, the answer is congestive heart failure, pneumonia.", .answer)
        #expect(honest.concepts == 3 && honest.conceptsSupported == 3, "\(honest.unsupported)")
        let backwards = try judge("The patient has congestive heart failure. Therefore, the answer is congestive heart failure.", .answer)
        #expect(backwards.concepts == 1 && backwards.conceptsSupported == 0)
        let icd = try judge("<think>Fever and headache.</think><diagnosis>I50.9</diagnosis> congestive heart failure", .deepicd)
        #expect(icd.concepts == 2 && icd.conceptsSupported == 2)
    }
}
