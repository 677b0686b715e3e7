import Foundation
import Runtime
import TGSupport

/// ICD-10-CM hierarchy levels DeepICD-R1 scores at.
public enum ICDLevel: Int, Comparable, Sendable, CaseIterable {
    case none = 0, chapter, category, full

    public static func < (lhs: ICDLevel, rhs: ICDLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var name: String { ["none", "chapter", "category", "full"][rawValue] }

    public init?(name: String) {
        guard let level = ICDLevel.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }
}

/// The 22 chapters of ICD-10-CM by their code ranges (first three
/// characters), as the tabular list defines them.
public enum ICD10Chapters {
    static let ranges: [(from: String, to: String)] = [
        ("A00", "B99"), ("C00", "D49"), ("D50", "D89"), ("E00", "E89"), ("F01", "F99"), ("G00", "G99"), ("H00", "H59"),
        ("H60", "H95"), ("I00", "I99"), ("J00", "J99"), ("K00", "K95"), ("L00", "L99"), ("M00", "M99"), ("N00", "N99"),
        ("O00", "O9A"), ("P00", "P96"), ("Q00", "Q99"), ("R00", "R99"), ("S00", "T88"), ("V00", "Y99"), ("Z00", "Z99"),
        ("U00", "U85"),
    ]

    /// The chapter number (1-based) of a code, or nil.
    public static func chapter(of code: String) -> Int? {
        let category = String(code.uppercased().prefix(3))
        guard category.count == 3 else { return nil }
        return ranges.firstIndex { category >= $0.from && category <= $0.to }.map { $0 + 1 }
    }

    /// The deepest level at which `predicted` agrees with any of `gold`.
    public static func agreement(_ predicted: String, gold: [String]) -> ICDLevel {
        let code = normalise(predicted)
        var best = ICDLevel.none
        for target in gold.map(normalise) {
            if code == target { return .full }
            if code.prefix(3) == target.prefix(3) { best = max(best, .category) }
            if let chapter = chapter(of: code), chapter == self.chapter(of: target) { best = max(best, .chapter) }
        }
        return best
    }

    public static func normalise(_ code: String) -> String {
        code.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ".", with: "").uppercased()
    }
}

/// The filter's judgement of one completion.
public struct Verdict: Equatable, Sendable {
    public var reasons: [String] = []
    /// Share of target items in the final answer (sections and answer formats).
    public var coverage: Double?
    /// DeepICD: the predicted code and its agreement with the gold codes.
    public var code: String?
    public var level: ICDLevel?
    /// The chain's cited events and quoted values against its context.
    public var grounding: Grounding?

    public var kept: Bool { reasons.isEmpty }

    /// As `filter.jsonl` writes it.
    public var record: VerdictRecord.Verdict {
        VerdictRecord.Verdict(reasons: reasons, coverage: coverage, code: code, level: level?.name, grounding: grounding)
    }

    public var json: JSONValue { record.json }
}

/// The filter's checks, each switchable by name. EHR-R1's own filter is
/// `coverage`, `ground-truth` and `header-variants`; the others are ours.
public enum FilterRule: String, Sendable, CaseIterable {
    /// The final answer (the text after the last "Final Results", or after
    /// "Therefore, the answer is") holds enough of the target items.
    case coverage
    /// Never says "ground truth" (EHR-R1's check).
    case groundTruth = "ground-truth"
    /// None of the headers EHR-R1 rejects ("Extraction and Analysis",
    /// "Reasoning and Summary").
    case headerVariants = "header-variants"
    /// The completion finished (not cut off by a token limit, not filtered).
    case finished
    /// All of the template's sections are there.
    case sections
    /// None of the leak phrases (`leak-phrases.txt`).
    case leakPhrases = "leak-phrases"
    /// No knowledge path copied verbatim.
    case knowledgeCopy = "knowledge-copy"
    /// Not stuck in a loop: at least half of its lines are distinct (small
    /// models repeat one line until a limit stops them).
    case repetition
    /// The events it cites are in its context at the cited times, and the
    /// values it quotes with a unit are values of the context (`Grounding`).
    case grounding

    /// EHR-R1's filter alone.
    public static let reference: Set<FilterRule> = [.coverage, .groundTruth, .headerVariants]

    /// `all`, `reference`, or a comma-separated list of names.
    public static func parse(_ text: String) throws -> Set<FilterRule> {
        switch text {
        case "all": return Set(allCases)
        case "reference": return reference
        default:
            var rules = Set<FilterRule>()
            for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard let rule = FilterRule(rawValue: name) else {
                    throw UsageError("unknown filter rule \"\(name)\" (rules: all, reference, \(allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                rules.insert(rule)
            }
            return rules
        }
    }
}

/// Decides whether a completion is a faithful reasoning chain: complete
/// (not cut off or filtered), in the required format, covering enough of
/// the targets, and never revealing the answer or knowledge it was given.
public struct ChainFilter: Sendable {
    /// The checks applied (all by default).
    public var rules = Set(FilterRule.allCases)
    /// Least share of target items the final answer must hold.
    public var minimumCoverage = 0.7
    /// Lowercased phrases that give the game away.
    public var leakPhrases: [String]
    /// DeepICD: the codes that exist (the lexicon's ICD-10-CM), normalised.
    public var validCodes: Set<String>?
    /// The concept part of the grounding check (nil: not made; it needs
    /// the run's lexicon).
    public var conceptCheck: ConceptCheck?
    /// DeepICD: the least agreement with the gold codes kept.
    public var minimumLevel = ICDLevel.category
    /// Least grounding score kept (share of cited events and quoted values
    /// the context supports).
    public var minimumGrounding = 0.75

    public init(leakPhrases: [String]) { self.leakPhrases = leakPhrases.map { $0.lowercased() } }

    /// The shipped phrase list, or a file of one phrase per line (`#` comments).
    public static func leakPhrases(file: String?) throws -> [String] {
        let text: String
        if let file {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw InputError(file: file, message: "cannot read the phrase list")
            }
            text = contents
        } else {
            guard let url = Bundle.module.url(forResource: "leak-phrases", withExtension: "txt") else {
                throw UsageError("the shipped leak-phrases.txt is missing from the build")
            }
            text = try String(contentsOf: url, encoding: .utf8)
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// `context`: the rendered context the model was given (for the
    /// grounding check; nil skips it).
    public func judge(text: String, finishReason: String, format: AnswerFormat, targets: [String], targetCodes: [String],
                      knowledge: [String], context: String?) -> Verdict {
        judge(text: text, finishReason: finishReason, format: format, targets: targets, targetCodes: targetCodes, knowledge: knowledge,
              contextEvents: context.map(ContextEvents.init(rendered:)))
    }

    /// The same with the context's events read once for all of a sample's completions.
    public func judge(text: String, finishReason: String, format: AnswerFormat, targets: [String], targetCodes: [String],
                      knowledge: [String], contextEvents: ContextEvents? = nil) -> Verdict {
        var verdict = judgeContent(text: text, finishReason: finishReason, format: format, targets: targets,
                                   targetCodes: targetCodes, knowledge: knowledge)
        if rules.contains(.grounding), let contextEvents, let claims = Self.claims(of: text, format: format) {
            ground(claims: claims, contextEvents: contextEvents, concepts: nil, into: &verdict)
        }
        return verdict
    }

    /// The same with the concept check too (`conceptCheck`, with what the
    /// sample gave the model: `ConceptCheck.given`).
    public func judge(text: String, finishReason: String, format: AnswerFormat, targets: [String], targetCodes: [String],
                      knowledge: [String], contextEvents: ContextEvents, given: ConceptCheck.Given?) throws -> Verdict {
        var verdict = judgeContent(text: text, finishReason: finishReason, format: format, targets: targets,
                                   targetCodes: targetCodes, knowledge: knowledge)
        if rules.contains(.grounding), let claims = Self.claims(of: text, format: format) {
            var concepts: ConceptCheck.Result?
            if let conceptCheck, let given { concepts = try conceptCheck.check(claims: claims, given: given) }
            ground(claims: claims, contextEvents: contextEvents, concepts: concepts, into: &verdict)
        }
        return verdict
    }

    /// What a chain says before its answer: Extraction and Reasoning of
    /// the sections format, the text before "Therefore, the answer is" of
    /// the answer format, the `<think>` part of DeepICD's (the whole text
    /// when the marker is missing); nil for an empty text. The answer
    /// itself names the targets and is no claim about the record.
    static func claims(of text: String, format: AnswerFormat) -> String? {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        switch format {
        case .sections:
            let sections = Self.sections(of: text)
            return [sections["extraction"], sections["reasoning"]].compactMap { $0 }.joined(separator: "\n")
        case .answer:
            guard let range = text.range(of: "therefore, the answer is", options: [.caseInsensitive, .backwards]) else { return text }
            return String(text[..<range.lowerBound])
        case .deepicd:
            return Self.tagged("think", in: text) ?? text
        }
    }

    private func ground(claims: String, contextEvents: ContextEvents, concepts: ConceptCheck.Result?, into verdict: inout Verdict) {
        var grounding = Grounding.check(chain: claims, context: contextEvents)
        if let concepts {
            grounding.concepts = concepts.asserted
            grounding.conceptsSupported = concepts.supported
            grounding.unsupported += concepts.backwards
        }
        verdict.grounding = grounding
        if let score = grounding.score, score < minimumGrounding {
            let shown = grounding.unsupported.prefix(2).joined(separator: "; ")
            verdict.reasons.append(String(format: "grounding %.2f < %.2f", score, minimumGrounding)
                                   + (shown.isEmpty ? "" : " (\(shown))"))
        }
    }

    private func judgeContent(text: String, finishReason: String, format: AnswerFormat, targets: [String], targetCodes: [String],
                              knowledge: [String]) -> Verdict {
        var verdict = Verdict()
        if rules.contains(.finished) {
            switch finishReason {
            case "length": verdict.reasons.append("truncated (finish_reason length)")
            case "content_filter": verdict.reasons.append("content filtered")
            default: break
            }
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            verdict.reasons.append("empty")
            return verdict
        }
        let lowered = text.lowercased()
        if rules.contains(.groundTruth), lowered.contains("ground truth") { verdict.reasons.append("says \"ground truth\"") }
        if rules.contains(.headerVariants), let header = ["Extraction and Analysis", "Reasoning and Summary"].first(where: text.contains) {
            verdict.reasons.append("has the header \"\(header)\"")
        }
        if rules.contains(.leakPhrases) {
            for phrase in leakPhrases where lowered.contains(phrase) && !(phrase == "ground truth" && rules.contains(.groundTruth)) {
                verdict.reasons.append("mentions \"\(phrase)\"")
                break
            }
        }
        if rules.contains(.repetition) {
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            if lines.count >= 4, Set(lines).count * 2 < lines.count {
                verdict.reasons.append("repeats itself (\(Set(lines).count) distinct of \(lines.count) lines)")
            } else if let loop = Self.longestLoop(lowered), loop >= 4 {
                // A loop inside a line: the same run of eight words again and again.
                verdict.reasons.append("repeats itself (a run of 8 words \(loop) times)")
            }
        }
        if rules.contains(.knowledgeCopy) {
            for line in knowledge where lowered.contains(line.lowercased()) {
                verdict.reasons.append("copies a knowledge path")
                break
            }
        }
        switch format {
        case .sections:
            if rules.contains(.sections) {
                let sections = Self.sections(of: text)
                let missing = ["extraction", "reasoning", "final results"].filter { sections[$0] == nil }
                if !missing.isEmpty {
                    verdict.reasons.append("missing section: " + missing.map(Self.title).joined(separator: ", "))
                }
            }
            // As EHR-R1: the text after the last "Final Results" (the whole
            // text when there is none) is the answer.
            if rules.contains(.coverage) { coverage(Self.finalAnswer(of: text), targets: targets, into: &verdict) }
        case .answer:
            if let range = lowered.range(of: "therefore, the answer is", options: .backwards) {
                if rules.contains(.coverage) { coverage(String(text[range.upperBound...]), targets: targets, into: &verdict) }
            } else if rules.contains(.sections) {
                verdict.reasons.append("missing \"Therefore, the answer is\"")
            } else if rules.contains(.coverage) {
                coverage(text, targets: targets, into: &verdict)
            }
        case .deepicd:
            guard let think = Self.tagged("think", in: text), !think.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                verdict.reasons.append("missing <think>...</think>")
                return verdict
            }
            guard let diagnosis = Self.tagged("diagnosis", in: text) else {
                verdict.reasons.append("missing <diagnosis>CODE</diagnosis>")
                return verdict
            }
            let code = ICD10Chapters.normalise(diagnosis)
            verdict.code = code
            if let validCodes, !validCodes.contains(code) {
                verdict.reasons.append("\(diagnosis.trimmingCharacters(in: .whitespaces)) is not an ICD-10-CM code")
                return verdict
            }
            let level = ICD10Chapters.agreement(code, gold: targetCodes)
            verdict.level = level
            if level < minimumLevel {
                verdict.reasons.append("code agrees only at \(level.name) level (needs \(minimumLevel.name))")
            }
        }
        return verdict
    }

    private func coverage(_ answer: String, targets: [String], into verdict: inout Verdict) {
        guard !targets.isEmpty else { return }
        let haystack = " " + Self.normalise(answer) + " "
        let covered = targets.filter { haystack.contains(" " + Self.normalise($0) + " ") }.count
        let share = Double(covered) / Double(targets.count)
        verdict.coverage = share
        if share < minimumCoverage {
            verdict.reasons.append(String(format: "final answer covers %d of %d targets (%.0f%% < %.0f%%)", covered, targets.count,
                                          share * 100, minimumCoverage * 100))
        }
    }

    /// How often the most frequent run of eight words comes back (nil for
    /// a text of fewer words): a model stuck in a loop writes one sentence
    /// over and over, within a line as well as across lines.
    static func longestLoop(_ text: String) -> Int? {
        let words = text.split { !$0.isLetter && !$0.isNumber }
        guard words.count >= 8 else { return nil }
        var counts: [String: Int] = [:]
        for start in 0...(words.count - 8) { counts[words[start..<(start + 8)].joined(separator: " "), default: 0] += 1 }
        return counts.values.max()
    }

    /// The text after the last "Final Results" (any case), else the whole text.
    static func finalAnswer(of text: String) -> String {
        guard let range = text.range(of: "final results", options: [.caseInsensitive, .backwards]) else { return text }
        return String(text[range.upperBound...])
    }

    static func title(_ key: String) -> String { key.split(separator: " ").map { $0.capitalized }.joined(separator: " ") }

    /// Lowercase words separated by single spaces: punctuation and case
    /// never decide whether an item is mentioned.
    static func normalise(_ text: String) -> String {
        var result = ""
        var space = true
        for scalar in text.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                result.unicodeScalars.append(scalar)
                space = false
            } else if !space {
                result.append(" ")
                space = true
            }
        }
        return result.trimmingCharacters(in: .whitespaces)
    }

    /// The text under each known section header: a markdown header
    /// (`#`..`####`) or a line in bold, named Extraction, Reasoning or
    /// Final Result(s).
    static func sections(of text: String) -> [String: String] {
        var result: [String: String] = [:]
        var current: String?
        var body: [Substring] = []
        func close() {
            if let current, result[current] == nil { result[current] = body.joined(separator: "\n") }
            body = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let name = header(line) {
                close()
                current = name
            } else if line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                close()
                current = nil
            } else {
                body.append(line)
            }
        }
        close()
        return result
    }

    static func header(_ line: Substring) -> String? {
        var text = line.trimmingCharacters(in: .whitespaces)
        let isMarkdown = text.hasPrefix("#")
        while text.hasPrefix("#") { text.removeFirst() }
        text = text.trimmingCharacters(in: .whitespaces)
        let isBold = text.hasPrefix("**")
        guard isMarkdown || isBold else { return nil }
        text = text.replacingOccurrences(of: "*", with: "").trimmingCharacters(in: .whitespaces)
        if text.hasSuffix(":") { text.removeLast() }
        switch text.lowercased() {
        case "extraction": return "extraction"
        case "reasoning": return "reasoning"
        case "final results", "final result": return "final results"
        default: return nil
        }
    }

    /// The text between `<tag>` and `</tag>`.
    static func tagged(_ tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(tag)>"), let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex) else {
            return nil
        }
        return String(text[open.upperBound..<close.lowerBound])
    }
}
