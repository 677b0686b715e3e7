import TGSupport

/// One `[Term]` stanza of an OBO 1.2/1.4 file, reduced to what a lexicon uses.
struct OBOTerm: Sendable, Equatable {
    struct Synonym: Sendable, Equatable {
        var text: String
        /// EXACT, RELATED, BROAD or NARROW.
        var scope: String
        var type: String?
    }

    var id: String
    var line: Int
    var name: String?
    var definition: String?
    var synonyms: [Synonym] = []
    var xrefs: [String] = []
    var alternativeIDs: [String] = []
    var parents: [String] = []
    /// `relationship: TYPE TARGET` lines, e.g. ("part_of", "UBERON:0000955").
    var relationships: [(type: String, target: String)] = []
    var isObsolete = false

    static func == (lhs: OBOTerm, rhs: OBOTerm) -> Bool {
        lhs.id == rhs.id && lhs.name == rhs.name && lhs.definition == rhs.definition && lhs.synonyms == rhs.synonyms
            && lhs.xrefs == rhs.xrefs && lhs.parents == rhs.parents && lhs.isObsolete == rhs.isObsolete
            && lhs.relationships.elementsEqual(rhs.relationships, by: { $0 == $1 })
    }
}

struct OBODocument: Sendable {
    var ontology: String?
    var dataVersion: String?
    var terms: [OBOTerm]
    var file: LexiconManifest.FileRecord
}

/// A strict, streaming reader of the OBO flat file format. It understands the
/// header, `[Term]` stanzas and their tags, quoted strings with escapes,
/// trailing `{qualifiers}` and `! comments`; other stanza kinds (`[Typedef]`,
/// `[Instance]`) are read for syntax and skipped. Anything malformed is an
/// error naming the line and the tag.
struct OBOParser {
    let path: String

    func parse() throws -> OBODocument {
        let reader = try LineReader(path: path, computeDigest: true)
        var ontology: String?
        var dataVersion: String?
        var terms: [OBOTerm] = []
        var firstLineOfID: [String: Int] = [:]
        var current: OBOTerm?
        var currentStanza: String?   // nil while in the header
        var stanzaLine = 0

        func finishStanza() throws {
            guard let stanza = currentStanza else { return }
            if stanza == "Term" {
                guard let term = current else {
                    throw InputError(file: path, line: stanzaLine, field: "id", message: "[Term] stanza without an id")
                }
                if let first = firstLineOfID[term.id] {
                    throw InputError(file: path, line: term.line, field: "id",
                                     message: "duplicate term id \(term.id) (first defined at line \(first))")
                }
                firstLineOfID[term.id] = term.line
                terms.append(term)
            }
            current = nil
        }

        while let bytes = try reader.nextLine() {
            let lineNumber = reader.lineNumber
            guard !bytes.contains(0) else { throw InputError(file: path, line: lineNumber, message: "NUL byte") }
            guard let line = decodeUTF8(bytes) else {
                throw InputError(file: path, line: lineNumber, message: "invalid UTF-8")
            }
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("!") { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    throw InputError(file: path, line: lineNumber, message: "malformed stanza header \(trimmed)")
                }
                try finishStanza()
                currentStanza = String(trimmed.dropFirst().dropLast())
                stanzaLine = lineNumber
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw InputError(file: path, line: lineNumber, message: "expected 'tag: value', found \(trimmed.prefix(60))")
            }
            let tag = String(trimmed[..<colon]).trimmingSpaces()
            let rawValue = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces()
            guard !tag.isEmpty else {
                throw InputError(file: path, line: lineNumber, message: "empty tag before ':'")
            }
            func fail(_ message: String) -> InputError {
                InputError(file: path, line: lineNumber, field: tag, message: message)
            }

            guard let stanza = currentStanza else {
                if tag == "ontology" { ontology = rawValue }
                if tag == "data-version" { dataVersion = rawValue }
                continue
            }
            guard stanza == "Term" else { continue }

            if tag == "id" {
                let id = try OBOValue.plain(rawValue, fail: fail)
                guard !id.isEmpty else { throw fail("empty id") }
                guard current == nil else { throw fail("second id in one [Term] stanza") }
                current = OBOTerm(id: id, line: lineNumber)
                continue
            }
            guard current != nil else { throw fail("tag before the stanza's id") }
            switch tag {
            case "name":
                current!.name = try OBOValue.plain(rawValue, fail: fail)
            case "def":
                current!.definition = try OBOValue.quoted(rawValue, fail: fail).text
            case "synonym":
                let (text, rest) = try OBOValue.quoted(rawValue, fail: fail)
                let words = rest.prefix { $0 != "[" }.split(separator: " ").map(String.init)
                guard let scope = words.first, ["EXACT", "RELATED", "BROAD", "NARROW"].contains(scope) else {
                    throw fail("synonym scope must be EXACT, RELATED, BROAD or NARROW")
                }
                current!.synonyms.append(.init(text: text, scope: scope, type: words.dropFirst().first))
            case "xref":
                let value = try OBOValue.plain(rawValue, fail: fail)
                if let reference = value.split(separator: " ").first { current!.xrefs.append(String(reference)) }
            case "alt_id":
                current!.alternativeIDs.append(try OBOValue.plain(rawValue, fail: fail))
            case "is_a":
                let target = try OBOValue.plain(rawValue, fail: fail)
                guard !target.isEmpty, !target.contains(" ") else { throw fail("is_a takes one term id") }
                current!.parents.append(target)
            case "relationship":
                let words = try OBOValue.plain(rawValue, fail: fail).split(separator: " ").map(String.init)
                guard words.count == 2 else { throw fail("relationship takes a type and a term id") }
                current!.relationships.append((words[0], words[1]))
            case "is_obsolete":
                current!.isObsolete = try OBOValue.plain(rawValue, fail: fail) == "true"
            default:
                break
            }
        }
        try finishStanza()
        let record = LexiconManifest.FileRecord(path: path, bytes: reader.bytesRead, sha256: reader.hexDigest())
        return OBODocument(ontology: ontology, dataVersion: dataVersion, terms: terms, file: record)
    }
}

/// Parsing of OBO tag values.
enum OBOValue {
    /// A value without quotes: trailing `{qualifiers}` and `! comment` removed,
    /// `\` escapes resolved.
    static func plain(_ raw: String, fail: (String) -> InputError) throws -> String {
        var output = ""
        var iterator = raw.makeIterator()
        var previousWasSpace = true
        while let character = iterator.next() {
            if character == "\\" {
                guard let escaped = iterator.next() else { throw fail("dangling '\\' at end of value") }
                output.append(unescape(escaped))
                previousWasSpace = false
                continue
            }
            if character == "!" && previousWasSpace { break }
            if character == "{" && previousWasSpace { break }
            output.append(character)
            previousWasSpace = character == " " || character == "\t"
        }
        return output.trimmingSpaces()
    }

    /// A value that starts with a quoted string: returns the string and what
    /// follows the closing quote.
    static func quoted(_ raw: String, fail: (String) -> InputError) throws -> (text: String, rest: String) {
        guard raw.first == "\"" else { throw fail("expected a quoted string") }
        var text = ""
        var index = raw.index(after: raw.startIndex)
        while index < raw.endIndex {
            let character = raw[index]
            if character == "\\" {
                let next = raw.index(after: index)
                guard next < raw.endIndex else { throw fail("dangling '\\' in quoted string") }
                text.append(unescape(raw[next]))
                index = raw.index(after: next)
                continue
            }
            if character == "\"" {
                let rest = String(raw[raw.index(after: index)...]).trimmingSpaces()
                return (text, rest)
            }
            text.append(character)
            index = raw.index(after: index)
        }
        throw fail("unterminated quoted string")
    }

    private static func unescape(_ character: Character) -> Character {
        switch character {
        case "n": return "\n"
        case "t": return "\t"
        case "W": return " "
        default: return character
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
