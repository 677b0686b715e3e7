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

    @Flag(help: "Print to standard error the time to open the lexicon and the documents and characters matched per second.")
    var stats = false

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
        let opening = DispatchTime.now().uptimeNanoseconds
        var rules = try ContextRules.standard()
        if let contextTriggers { rules.append(try ContextRules(contentsOf: contextTriggers)) }
        let store = try LexiconStore(directory: lexicon)
        if semtypes != nil, let wanted = options.semanticTypes {
            // A misspelt type would quietly match nothing.
            let known = try store.semanticTypeIDs()
            let unknown = wanted.subtracting(known).sorted()
            guard unknown.isEmpty else {
                throw ValidationError("--semtypes: \(unknown.joined(separator: ", ")) not in the lexicon (it has \(known.isEmpty ? "no semantic types; use --semtypes all" : known.sorted().prefix(20).joined(separator: ", ")))")
            }
        }
        let matcher = try ConceptMatcher(lexicon: store, context: rules, options: options)
        var session = matcher.makeSession()
        let opened = DispatchTime.now().uptimeNanoseconds
        var documents = 0, characters = 0
        func match(_ text: String) throws -> [Mention] {
            documents += 1
            characters += text.unicodeScalars.count
            return try matcher.match(text, session: &session)
        }

        let path = input ?? "/dev/stdin"
        let name = input ?? "<stdin>"
        let reader = try LineReader(path: path)
        var output = StandardOutput()
        var line: [UInt8] = []
        func emit(_ result: MatchOutput) throws {
            line.removeAll(keepingCapacity: true)
            result.write(into: &line)
            line.append(0x0A)
            try line.withUnsafeBufferPointer { try output.write($0) }
        }
        var plainText: [String]?
        while let bytes = try reader.nextLine() {
            guard let line = decodeUTF8(bytes) else {
                throw InputError(file: name, line: reader.lineNumber, message: "invalid UTF-8")
            }
            // Blank: tabs and space separators only (Foundation's
            // `.whitespaces`), checked on the bytes first: trimming went
            // through NSString, 7 % of a run.
            let blank = bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 >= 0x80 }
                && line.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
            if plainText == nil, !blank, !line.hasPrefix("{") {
                plainText = []
            }
            if plainText != nil {
                plainText!.append(line)
                continue
            }
            if blank { continue }
            let document = try Document(line: bytes, file: name, lineNumber: reader.lineNumber)
            try emit(MatchOutput(id: document.id, mentions: try match(document.text)))
        }
        if let plainText {
            try emit(MatchOutput(id: .string(name), mentions: try match(plainText.joined(separator: "\n"))))
        }
        try output.flush()
        if stats {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - opened) / 1e9
            let line = String(format: "opened in %.3f s; %d documents, %d characters in %.3f s: %.0f documents/s, %.0f characters/s\n",
                              Double(opened - opening) / 1e9, documents, characters, seconds,
                              Double(documents) / max(seconds, 1e-9), Double(characters) / max(seconds, 1e-9))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

/// A document id as given: a JSON string or integer.
enum DocumentID: Equatable {
    case string(String)
    case number(Int64)
}

/// One input line: `{"id": ..., "text": ...}`.
struct Document {
    var id: DocumentID
    var text: String

    init(line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int) throws {
        guard let value = try? JSONValue.parse(line), let members = value.objectValue else {
            throw InputError(file: file, line: lineNumber, message: "not a JSON object")
        }
        func member(_ key: String) -> JSONValue? { members.last { $0.0 == key }?.1 }
        switch member("text") {
        case .string(let text)?: self.text = text
        case nil, .null?: throw InputError(file: file, line: lineNumber, field: "text", message: "missing")
        default: throw InputError(file: file, line: lineNumber, field: "text", message: "must be a string")
        }
        switch member("id") {
        case .string(let id)?: self.id = .string(id)
        case .integer(let id)?: self.id = .number(id)
        case nil, .null?: throw InputError(file: file, line: lineNumber, field: "id", message: "missing")
        default: throw InputError(file: file, line: lineNumber, field: "id", message: "must be a string or an integer")
        }
    }
}

/// One output line. Written directly as bytes (JSONEncoder was a tenth of
/// a run), in the form JSONEncoder with sorted keys gave: keys in
/// alphabetical order, integral similarities without a fraction.
struct MatchOutput {
    var id: DocumentID
    var mentions: [Mention]

    func write(into output: inout [UInt8]) {
        func raw(_ text: StaticString) { text.withUTF8Buffer { output.append(contentsOf: $0) } }
        func string(_ text: String) { JSONValue.writeString(text, into: &output) }
        func bool(_ value: Bool) { value ? raw("true") : raw("false") }
        raw("{\"id\":")
        switch id {
        case .string(let text): string(text)
        case .number(let number): output.append(contentsOf: String(number).utf8)
        }
        raw(",\"mentions\":[")
        for (index, mention) in mentions.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"context\":{\"family\":")
            bool(mention.context.family)
            raw(",\"historical\":")
            bool(mention.context.historical)
            raw(",\"hypothetical\":")
            bool(mention.context.hypothetical)
            raw(",\"negated\":")
            bool(mention.context.negated)
            raw("},\"cui\":")
            string(mention.cui)
            raw(",\"end\":")
            output.append(contentsOf: String(mention.end).utf8)
            raw(",\"ngram\":")
            string(mention.ngram)
            raw(",\"preferred\":")
            bool(mention.preferred)
            raw(",\"preferredName\":")
            string(mention.preferredName)
            raw(",\"semtypes\":[")
            for (position, type) in mention.semtypes.enumerated() {
                if position > 0 { raw(",") }
                string(type)
            }
            raw("],\"similarity\":")
            let similarity = mention.similarity
            output.append(contentsOf: (similarity == similarity.rounded() && similarity.magnitude < 1e15
                ? String(Int64(similarity)) : "\(similarity)").utf8)
            raw(",\"start\":")
            output.append(contentsOf: String(mention.start).utf8)
            raw(",\"term\":")
            string(mention.term)
            raw("}")
        }
        raw("]}")
    }
}
