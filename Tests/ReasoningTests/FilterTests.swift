import Foundation
import Testing
@testable import Reasoning

@Suite struct ChainFilterTests {
    let filter = ChainFilter(leakPhrases: try! ChainFilter.leakPhrases(file: nil))
    let targets = ["Sodium", "Potassium, serum", "Creatinine"]

    func sections(_ final: String, reasoning: String = "Low intake and diuretics explain the electrolyte panel.") -> String {
        "## Extraction\n**Labevents [2100-01-01 08:00]**: sodium 128 mmol/L\n\n## Reasoning\n\(reasoning)\n\n## Final Results\n\(final)\n"
    }

    @Test func keepsACompleteChainCoveringTheTargets() {
        let verdict = filter.judge(text: sections("Sodium\nPotassium, serum\nCreatinine"), finishReason: "stop", format: .sections,
                                   targets: targets, targetCodes: [], knowledge: [])
        #expect(verdict.kept && verdict.coverage == 1, "\(verdict)")
        // Bold headers and punctuation differences are fine; 2 of 3 is below 70 %.
        let bold = "**Extraction**\nx\n**Reasoning:**\ny\n**Final Results**\n- sodium\n- potassium serum\n"
        let partial = filter.judge(text: bold, finishReason: "stop", format: .sections, targets: targets, targetCodes: [], knowledge: [])
        #expect(partial.coverage.map { abs($0 - 2.0 / 3) < 1e-9 } == true)
        #expect(partial.reasons == ["final answer covers 2 of 3 targets (67% < 70%)"])
    }

    @Test func rejectsLeaksTruncationAndMissingSections() {
        let leak = filter.judge(text: sections("Sodium\nPotassium, serum\nCreatinine", reasoning: "As the ground truth says, sodium."),
                                finishReason: "stop", format: .sections, targets: targets, targetCodes: [], knowledge: [])
        #expect(leak.reasons == ["says \"ground truth\""])
        // A template echoed instead of answered.
        let echoed = filter.judge(text: sections("Sodium\nPotassium, serum\nCreatinine", reasoning: "[YOUR OUTPUT]"),
                                  finishReason: "stop", format: .sections, targets: targets, targetCodes: [], knowledge: [])
        #expect(echoed.reasons == ["mentions \"[your output]\""])
        // A chain stuck in a loop.
        let loop = "## Extraction\n" + String(repeating: "**Event Name **: Carvedilol\n", count: 8) + "## Reasoning\nIt helps.\n## Final Results\n- Sodium\n- Potassium, serum\n- Creatinine\n"
        #expect(filter.judge(text: loop, finishReason: "stop", format: .sections, targets: targets, targetCodes: [], knowledge: []).reasons
                == ["repeats itself (5 distinct of 12 lines)"])
        // A loop inside one line (as the demo's small model writes one).
        let inline = "## Extraction\n" + String(repeating: "**You need to specify the event name and time for each extracted information**: ", count: 6)
            + "\n## Reasoning\nIt helps.\n## Final Results\n- Sodium\n- Potassium, serum\n- Creatinine\n"
        #expect(filter.judge(text: inline, finishReason: "stop", format: .sections, targets: targets, targetCodes: [], knowledge: []).reasons
                == ["repeats itself (a run of 8 words 6 times)"])
        #expect(ChainFilter.longestLoop(NearDuplicateTests.chain.lowercased()) == 1, "a faithful chain repeats no run of 8 words")
        let copied = filter.judge(text: sections("Sodium\nPotassium, serum\nCreatinine", reasoning: "Hyponatremia -> has_finding -> Sodium."),
                                  finishReason: "stop", format: .sections, targets: targets, targetCodes: [],
                                  knowledge: ["Hyponatremia -> has_finding -> Sodium"])
        #expect(copied.reasons == ["copies a knowledge path"])
        let cut = filter.judge(text: "## Extraction\nsodium", finishReason: "length", format: .sections, targets: targets, targetCodes: [],
                               knowledge: [])
        #expect(cut.reasons == ["truncated (finish_reason length)", "missing section: Reasoning, Final Results",
                                "final answer covers 1 of 3 targets (33% < 70%)"])
        #expect(filter.judge(text: "", finishReason: "content_filter", format: .sections, targets: targets, targetCodes: [],
                             knowledge: []).reasons == ["content filtered", "empty"])
    }

    @Test func freeFormatNeedsTheClosingAnswer() {
        let good = filter.judge(text: "The low sodium... Therefore, the answer is Sodium; Potassium, serum; Creatinine.", finishReason: "stop",
                                format: .answer, targets: targets, targetCodes: [], knowledge: [])
        #expect(good.kept)
        let none = filter.judge(text: "Sodium, potassium, creatinine.", finishReason: "stop", format: .answer, targets: targets,
                                targetCodes: [], knowledge: [])
        #expect(none.reasons == ["missing \"Therefore, the answer is\""])
    }

    @Test func deepICDScoresTheHierarchy() {
        var icd = filter
        icd.validCodes = ["J189", "J181", "I10", "E119"]
        func judge(_ text: String) -> Verdict {
            icd.judge(text: text, finishReason: "stop", format: .deepicd, targets: ["Pneumonia"], targetCodes: ["J189"], knowledge: [])
        }
        #expect(judge("<think>fever and infiltrate</think><diagnosis>J18.9</diagnosis>").level == .full)
        #expect(judge("<think>lobar</think><diagnosis>J18.1</diagnosis>").level == .category)
        let chapter = judge("<think>x</think><diagnosis>I10</diagnosis>")
        #expect(chapter.level == ICDLevel.none && !chapter.kept)
        #expect(judge("<think>x</think><diagnosis>Q99.9</diagnosis>").reasons == ["Q99.9 is not an ICD-10-CM code"])
        #expect(judge("<diagnosis>J18.9</diagnosis>").reasons == ["missing <think>...</think>"])
        #expect(ICD10Chapters.agreement("J44.1", gold: ["J189"]) == .chapter)
        #expect(ICD10Chapters.chapter(of: "O9A.1") == 15 && ICD10Chapters.chapter(of: "S72") == 19)
    }
}

@Suite struct PromptTemplateTests {
    @Test func shippedTemplatesFillEveryPlaceholder() throws {
        for name in PromptTemplate.shipped {
            let template = try PromptTemplate.load(name)
            let values = PromptValues(instruction: "Predict the labs.", context: "## Labevents [2100-01-01]\nsodium 128",
                                      knowledge: ["A -> r -> B"], groundTruth: ["Sodium"], task: "labevents")
            let text = template.messages(values).map(\.content).joined(separator: "\n")
            #expect(!text.contains("{{"), "\(name)")
            #expect(text.contains("sodium 128") && text.contains("Sodium"), "\(name)")
            #expect(text.contains("A -> r -> B") == template.usesKnowledge, "\(name)")
        }
        #expect(try PromptTemplate.load("deepicd").format == .deepicd)
        #expect(try PromptTemplate.load("without-format").format == .answer)
    }

    @Test func badTemplatesNameTheirLine() throws {
        #expect(throws: (any Error).self) { try PromptTemplate(text: "format: essay\n---- user ----\nx", name: "t", file: "t.txt") }
        do {
            _ = try PromptTemplate(text: "format: sections\n---- user ----\n{{contxt}}", name: "t", file: "t.txt")
            Issue.record("an unknown placeholder must be refused")
        } catch {
            #expect("\(error)".contains("t.txt") && "\(error)".contains("contxt"), "\(error)")
        }
        do {
            _ = try PromptTemplate(text: "format: sections\nflavour: x\n---- user ----\nhi", name: "t", file: "t.txt")
            Issue.record("an unknown header must be refused")
        } catch {
            #expect("\(error)".contains("t.txt:2"), "\(error)")
        }
    }
}
