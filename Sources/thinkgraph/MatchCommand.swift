import ArgumentParser
import Foundation
import Lexicon
import Matcher
import SimString
import TGSupport

extension ConceptMatcher.Options.Overlap: ExpressibleByArgument {}

struct MatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Find lexicon concepts in text (QuickUMLS-style), with negation and other context.",
        discussion: """
            Input: JSONL lines {"id": ..., "text": "..."} or, if the input does not start with '{', plain text \
            (one document). Output: one JSON line per document, {"id": ..., "mentions": [...]}, each mention with \
            start, end (Unicode scalar offsets, end exclusive), ngram, term, cui, similarity, semtypes, preferred, \
            preferredName and context {negated, hypothetical, historical, family}.
            """)

    @Option(help: "Lexicon folder.")
    var lexicon: String

    @Argument(help: "Input file (standard input when omitted).")
    var input: String?

    @Option(help: "Similarity threshold, in (0, 1].")
    var threshold = 0.7

    @Option(help: "Similarity measure: jaccard, cosine, dice, overlap.")
    var similarity: SimilarityMeasure = .jaccard

    @Option(help: "Longest span, in tokens.")
    var window = 5

    @Option(help: "Shortest span, in characters.")
    var minMatchLength = 3

    @Option(help: "Overlap resolution: score (similarity, then length) or length.")
    var overlapping: ConceptMatcher.Options.Overlap = .score

    @Flag(help: "Keep all matches, overlapping or not.")
    var allMatches = false

    @Option(help: "Accepted semantic types, comma-separated (default: QuickUMLS's set; 'all' accepts every type).")
    var semtypes: String?

    @Flag(help: "Drop concepts that have no semantic type (by default they pass the filter).")
    var requireSemtypes = false

    @Flag(help: "Match every token window, without QuickUMLS's span rules.")
    var noSpanRules = false

    @Option(help: "Extra context triggers (TSV: phrase, category, direction, window), added to the shipped ones.")
    var contextTriggers: String?

    func validate() throws {
        guard threshold > 0, threshold <= 1 else { throw ValidationError("--threshold must be in (0, 1]") }
        guard window >= 1 else { throw ValidationError("--window must be at least 1") }
        guard minMatchLength >= 0 else { throw ValidationError("--min-match-length must not be negative") }
    }

    func run() throws {
        var options = ConceptMatcher.Options()
        options.threshold = threshold
        options.measure = similarity
        options.window = window
        options.minimumMatchLength = minMatchLength
        options.overlap = overlapping
        options.allMatches = allMatches
        options.requireSemanticTypes = requireSemtypes
        options.spanRules = !noSpanRules
        if let semtypes {
            options.semanticTypes = semtypes.lowercased() == "all" ? nil : Set(commaList(semtypes))
        }
        var rules = try ContextRules.standard()
        if let contextTriggers { rules.append(try ContextRules(contentsOf: contextTriggers)) }
        let store = try LexiconStore(directory: lexicon)
        let matcher = try ConceptMatcher(lexicon: store, context: rules, options: options)
        var session = matcher.makeSession()

        let path = input ?? "/dev/stdin"
        let name = input ?? "<stdin>"
        let reader = try LineReader(path: path)
        var output = StandardOutput()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var plainText: [String]?
        while let bytes = try reader.nextLine() {
            guard let line = decodeUTF8(bytes) else {
                throw InputError(file: name, line: reader.lineNumber, message: "invalid UTF-8")
            }
            if plainText == nil, !line.trimmingCharacters(in: .whitespaces).isEmpty, !line.hasPrefix("{") {
                plainText = []
            }
            if plainText != nil {
                plainText!.append(line)
                continue
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let document = try Document(line: line, file: name, lineNumber: reader.lineNumber)
            let mentions = try matcher.match(document.text, session: &session)
            output.write(String(decoding: try encoder.encode(MatchOutput(id: document.id, mentions: mentions)), as: UTF8.self))
            output.write("\n")
        }
        if let plainText {
            let mentions = try matcher.match(plainText.joined(separator: "\n"), session: &session)
            output.write(String(decoding: try encoder.encode(MatchOutput(id: .string(name), mentions: mentions)), as: UTF8.self))
            output.write("\n")
        }
        output.flush()
    }
}

/// A document id as given: a JSON string or number.
enum DocumentID: Codable, Equatable {
    case string(String)
    case number(Int)

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .string(try container.decode(String.self)) }
    }
}

struct Document {
    var id: DocumentID
    var text: String

    private struct Raw: Decodable {
        var id: DocumentID?
        var text: String?
    }

    init(line: String, file: String, lineNumber: Int) throws {
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: Data(line.utf8))
        } catch DecodingError.typeMismatch(_, let context), DecodingError.dataCorrupted(let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw InputError(file: file, line: lineNumber, field: field.isEmpty ? nil : field,
                             message: field.isEmpty ? "not a JSON object" : "must be a string (text) or a string or integer (id)")
        } catch {
            throw InputError(file: file, line: lineNumber, message: "not a JSON object")
        }
        guard let text = raw.text else {
            throw InputError(file: file, line: lineNumber, field: "text", message: "missing")
        }
        guard let id = raw.id else {
            throw InputError(file: file, line: lineNumber, field: "id", message: "missing")
        }
        self.id = id
        self.text = text
    }
}

struct MatchOutput: Encodable {
    var id: DocumentID
    var mentions: [Mention]
}
