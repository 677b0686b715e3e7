import Foundation

/// Trigger phrases that put mentions in context, read from a tab-separated
/// file the user can copy and extend:
///
///     # phrase <TAB> category <TAB> direction [<TAB> window]
///     no              negated       forward
///     was ruled out   negated       backward
///     family history  family        forward    20
///     but             terminate     both
///
/// Categories: negated, hypothetical, historical, family; `pseudo` for
/// phrases that look like triggers but are not ("no increase", "not only"),
/// and `terminate` for words that end a trigger's scope ("but", "however").
/// Directions: forward (the trigger governs what follows), backward (what
/// precedes), both. The window counts tokens (default 8). A scope never
/// crosses a sentence boundary, a terminating phrase or another trigger.
/// A header line that is a trigger phrase followed by ":" (e.g. "FAMILY
/// HISTORY:") governs the section until the next header.
public struct ContextRules: Sendable {
    public enum Category: String, Sendable, CaseIterable {
        case negated, hypothetical, historical, family, pseudo, terminate
    }

    public enum Direction: String, Sendable { case forward, backward, both }

    public struct Trigger: Sendable, Equatable {
        public var words: [String]
        public var category: Category
        public var direction: Direction
        public var window: Int
    }

    public private(set) var triggers: [Trigger] {
        didSet { triggersByFirstWord = Self.byFirstWord(triggers) }
    }
    /// Positions in `triggers` by each trigger's first word: a sentence is
    /// searched once for all triggers, not once per trigger.
    private var triggersByFirstWord: [String: [Int]]

    public init(triggers: [Trigger]) {
        self.triggers = triggers
        triggersByFirstWord = Self.byFirstWord(triggers)
    }

    private static func byFirstWord(_ triggers: [Trigger]) -> [String: [Int]] {
        var index: [String: [Int]] = [:]
        // A trigger without words can match nothing.
        for (position, trigger) in triggers.enumerated() {
            guard let first = trigger.words.first else { continue }
            index[first, default: []].append(position)
        }
        return index
    }

    /// The rules shipped with thinkgraph.
    public static func standard() throws -> ContextRules {
        guard let url = Bundle.module.url(forResource: "context-triggers", withExtension: "tsv") else {
            throw ContextRulesError(file: "context-triggers.tsv", line: nil, message: "missing from the bundle")
        }
        return try ContextRules(contentsOf: url.path)
    }

    public init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: path)
            throw ContextRulesError(file: path, line: nil, message: missing ? "missing file" : "cannot read as UTF-8 text")
        }
        try self.init(text: text, file: path)
    }

    init(text: String, file: String) throws {
        var triggers: [Trigger] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3, fields.count <= 4 else {
                throw ContextRulesError(file: file, line: offset + 1,
                                        message: "expected phrase, category, direction and an optional window, separated by tabs")
            }
            guard let category = Category(rawValue: fields[1]) else {
                throw ContextRulesError(file: file, line: offset + 1, message: "unknown category \(fields[1])")
            }
            guard let direction = Direction(rawValue: fields[2]) else {
                throw ContextRulesError(file: file, line: offset + 1, message: "unknown direction \(fields[2])")
            }
            var window = 8
            if fields.count == 4 {
                guard let value = Int(fields[3]), value > 0 else {
                    throw ContextRulesError(file: file, line: offset + 1, message: "window must be a positive number")
                }
                window = value
            }
            let words = Tokenizer.tokenize(fields[0].lowercased()).map(\.text)
            guard !words.isEmpty else {
                throw ContextRulesError(file: file, line: offset + 1, message: "empty phrase")
            }
            triggers.append(Trigger(words: words, category: category, direction: direction, window: window))
        }
        // Longest phrases first, so "no evidence of" wins over "no".
        self.init(triggers: triggers.sorted { $0.words.count > $1.words.count })
    }

    /// Adds the rules of another file after these.
    public mutating func append(_ other: ContextRules) {
        triggers = (triggers + other.triggers).sorted { $0.words.count > $1.words.count }
    }

    /// The context of every token: for each token index, the categories
    /// whose scope covers it.
    func contexts(tokens: [Token], sentences: [Range<Int>]) -> [MentionContext] {
        var result = [MentionContext](repeating: MentionContext(), count: tokens.count)
        let lowered = tokens.map { $0.text.lowercased() }
        var sectionCategory: Category?
        for sentence in sentences {
            // Section headers: "FAMILY HISTORY:" governs until the next header.
            if let last = sentence.last, tokens[last].text == ":" {
                let header = lowered[sentence.lowerBound..<last]
                sectionCategory = triggers.first {
                    header.elementsEqual($0.words) && [.family, .historical, .hypothetical, .negated].contains($0.category)
                }?.category
                continue
            }
            // Find trigger occurrences (longest first, no overlaps): every
            // match of every trigger, then taken in trigger order, each
            // trigger's from left to right, skipping overlaps.
            var matches: [(trigger: Int, start: Int)] = []
            for start in sentence {
                guard let candidates = triggersByFirstWord[lowered[start]] else { continue }
                for candidate in candidates {
                    let n = triggers[candidate].words.count
                    if start + n <= sentence.upperBound, lowered[start..<(start + n)].elementsEqual(triggers[candidate].words) {
                        matches.append((candidate, start))
                    }
                }
            }
            matches.sort { ($0.trigger, $0.start) < ($1.trigger, $1.start) }
            var found: [(range: Range<Int>, trigger: Trigger)] = []
            var taken = Set<Int>()
            var current = -1, nextStart = 0
            for match in matches {
                if match.trigger != current { (current, nextStart) = (match.trigger, sentence.lowerBound) }
                let trigger = triggers[match.trigger]
                let range = match.start..<(match.start + trigger.words.count)
                guard match.start >= nextStart, !range.contains(where: taken.contains) else { continue }
                found.append((range, trigger))
                taken.formUnion(range)
                nextStart = range.upperBound
            }
            found.sort { $0.range.lowerBound < $1.range.lowerBound }
            // A trigger's scope stops at another trigger: `taken` holds the
            // tokens of every trigger found (a lookup per token, not a scan
            // of all triggers, which made a long sentence quadratic).
            for (range, trigger) in found where ![.pseudo, .terminate].contains(trigger.category) {
                if trigger.direction != .backward {
                    var index = range.upperBound
                    var steps = 0
                    while index < sentence.upperBound, steps < trigger.window,
                          !taken.contains(index) {
                        mark(&result[index], trigger.category)
                        index += 1
                        steps += 1
                    }
                }
                if trigger.direction != .forward {
                    var index = range.lowerBound - 1
                    var steps = 0
                    while index >= sentence.lowerBound, steps < trigger.window,
                          !taken.contains(index) {
                        mark(&result[index], trigger.category)
                        index -= 1
                        steps += 1
                    }
                }
            }
            if let sectionCategory {
                for index in sentence { mark(&result[index], sectionCategory) }
            }
        }
        return result
    }

    private func mark(_ context: inout MentionContext, _ category: Category) {
        switch category {
        case .negated: context.negated = true
        case .hypothetical: context.hypothetical = true
        case .historical: context.historical = true
        case .family: context.family = true
        case .pseudo, .terminate: break
        }
    }
}

public struct ContextRulesError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var message: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
