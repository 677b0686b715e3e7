import Foundation
import TGSupport

/// Imports the ICD-10-CM tabular list.
///
/// Every chapter, section and code becomes a concept (the UMLS concept that
/// carries the code, if UMLS was imported; otherwise `ICD10CM:<code>`), its
/// description the preferred term and its inclusion terms synonyms. Codes
/// that take a seventh character are expanded into the full billable codes
/// ("S72.001" + "A" → "S72.001A", placeholders `X` added as ICD-10-CM
/// requires). The hierarchy becomes PAR/CHD pairs, and notes that name other
/// codes (excludes1, excludes2, code first, use additional code, code also)
/// become RO pairs named after the note.
struct ICD10CMImporter {
    static let source = "ICD10CM"
    let tabular: ICD10CMTabular
    private var conceptOfNode: [String] = []
    private var expansions: [(cui: String, parentCUI: String)] = []
    private var conceptOfCode: [String: String] = [:]
    private var conceptOfRange: [String: String] = [:]
    private(set) var counts: [String: Int] = [:]

    init(path: String) throws {
        tabular = try ICD10CMParser(path: path).parse()
    }

    /// All codes the importer files, dotted as in the tabular list; the
    /// expanded seventh-character codes included. Chapters appear as their
    /// number, sections as their range.
    var allCodes: [String] { Array(conceptOfCode.keys) + Array(conceptOfRange.keys) }

    mutating func importConcepts(into writer: LexiconWriter) throws {
        let source = Self.source
        conceptOfNode = []
        conceptOfNode.reserveCapacity(tabular.nodes.count)
        var chapters = 0, sections = 0, codes = 0, inclusionTerms = 0
        for node in tabular.nodes {
            let (name, range) = Self.splitRangeSuffix(node.description)
            let code = node.code
            let cui = writer.concept(forCode: code, in: source)
                ?? (node.kind == .chapter ? "ICD10CM:chapter-\(code)" : "ICD10CM:\(code)")
            conceptOfNode.append(cui)
            switch node.kind {
            case .chapter:
                chapters += 1
                if let range { conceptOfRange[range] = cui }
            case .section:
                sections += 1
                conceptOfRange[code] = cui
            case .code:
                codes += 1
                conceptOfCode[code] = cui
            }
            try writer.addTerm(cui: cui, text: name, source: source, termType: "PT", code: code,
                               isPreferred: true, nameRank: LexiconWriter.NameRank.sourcePreferred)
            for term in node.inclusionTerms {
                try writer.addTerm(cui: cui, text: term, source: source, termType: "IT", code: code,
                                   isPreferred: false, nameRank: LexiconWriter.NameRank.other)
                inclusionTerms += 1
            }
        }
        // Seventh-character expansions of leaf codes.
        for (index, node) in tabular.nodes.enumerated() where node.kind == .code && node.children.isEmpty {
            guard let (definitions, exclusion) = seventhCharacters(for: index) else { continue }
            for (character, meaning) in definitions where !exclusion.excludes(character, from: node.code) {
                let code = Self.appendSeventhCharacter(character, to: node.code)
                let cui = writer.concept(forCode: code, in: source) ?? "ICD10CM:\(code)"
                conceptOfCode[code] = cui
                expansions.append((cui, conceptOfNode[index]))
                try writer.addTerm(cui: cui, text: node.description + ", " + meaning, source: source, termType: "PT",
                                   code: code, isPreferred: true, nameRank: LexiconWriter.NameRank.sourcePreferred)
            }
        }
        counts["chapters"] = chapters
        counts["sections"] = sections
        counts["codes"] = codes
        counts["seventhCharacterCodes"] = expansions.count
        counts["inclusionTerms"] = inclusionTerms
    }

    mutating func importFacts(into writer: LexiconWriter) throws {
        let source = Self.source
        var hierarchy = 0, noteLinks = 0, unresolved = 0
        let resolver = ICD10CMCodeResolver(conceptOfCode: conceptOfCode, conceptOfRange: conceptOfRange)
        for (index, node) in tabular.nodes.enumerated() {
            let cui = conceptOfNode[index]
            if let parent = node.parent {
                try writer.addStatement(subject: cui, predicate: "isa", object: conceptOfNode[parent],
                                        rel: "PAR", inverseRel: "CHD", source: source)
                hierarchy += 1
            }
            for note in node.notes {
                let references = ICD10CMCodeResolver.references(in: note.text)
                for reference in references {
                    let targets = resolver.resolve(reference)
                    if targets.isEmpty { unresolved += 1 }
                    for target in targets where target != cui {
                        try writer.addStatement(subject: cui, predicate: note.relation, object: target,
                                                rel: "RO", inverseRel: "RO", source: source)
                        noteLinks += 1
                    }
                }
            }
        }
        for expansion in expansions {
            try writer.addStatement(subject: expansion.cui, predicate: "isa", object: expansion.parentCUI,
                                    rel: "PAR", inverseRel: "CHD", source: source)
            hierarchy += 1
        }
        counts["hierarchyLinks"] = hierarchy
        counts["noteLinks"] = noteLinks
        counts["noteReferencesUnresolved"] = unresolved
    }

    /// The seventh characters that apply to a code: those defined on it or on
    /// its nearest ancestor that defines any, with that node's exclusion rule.
    private func seventhCharacters(for index: Int)
        -> ([(character: String, meaning: String)], SeventhCharacterExclusion)? {
        var cursor: Int? = index
        while let current = cursor, tabular.nodes[current].kind == .code {
            let node = tabular.nodes[current]
            if !node.seventhCharacters.isEmpty {
                return (node.seventhCharacters, SeventhCharacterExclusion(notes: node.seventhCharacterNotes))
            }
            cursor = node.parent
        }
        return nil
    }

    /// "S02.0" + "A" → "S02.0XXA"; "S72.001" + "A" → "S72.001A".
    static func appendSeventhCharacter(_ character: String, to code: String) -> String {
        var plain = code.replacingOccurrences(of: ".", with: "")
        while plain.count < 6 { plain += "X" }
        plain += character
        return String(plain.prefix(3)) + "." + String(plain.dropFirst(3))
    }

    /// "Intestinal infectious diseases (A00-A09)" → ("Intestinal infectious
    /// diseases", "A00-A09"); text without such a suffix is returned as is.
    static func splitRangeSuffix(_ description: String) -> (name: String, range: String?) {
        guard description.hasSuffix(")"), let open = description.lastIndex(of: "(") else { return (description, nil) }
        let inside = String(description[description.index(after: open)..<description.index(before: description.endIndex)])
        let references = ICD10CMCodeResolver.references(in: inside)
        guard references.count == 1, let range = references.first, range.end != nil,
              range.text == inside else { return (description, nil) }
        let name = String(description[..<open]).trimmingSpaces()
        return (name.isEmpty ? description : name, inside)
    }
}

/// A restriction stated in a `sevenChrNote`, such as "7th characters D and S
/// do not apply to codes in category S06 with 6th character 7 - death due to
/// brain injury ..., or 8 - death due to other cause ...".
struct SeventhCharacterExclusion: Equatable {
    var characters: Set<Character> = []
    var sixthCharacters: Set<Character> = []

    init(notes: [String]) {
        for note in notes {
            guard let notApply = note.range(of: " do not apply "), let seventh = note.range(of: "7th character"),
                  seventh.upperBound < notApply.lowerBound, let sixth = note.range(of: "6th character ") else { continue }
            // Single capital letters between "7th characters" and "do not apply".
            for word in note[seventh.upperBound..<notApply.lowerBound].split(whereSeparator: { !$0.isLetter })
            where word.count == 1 && word.first!.isUppercase {
                characters.insert(word.first!)
            }
            // "6th character 7 - ..., or 8 - ...": a lone character before " - ".
            let rest = String(note[sixth.upperBound...])
            for piece in rest.components(separatedBy: " - ").dropLast() {
                if let last = piece.split(separator: " ").last, last.count == 1 { sixthCharacters.insert(last.first!) }
            }
        }
    }

    func excludes(_ character: String, from code: String) -> Bool {
        guard let seventh = character.first, characters.contains(seventh) else { return false }
        let plain = code.replacingOccurrences(of: ".", with: "")
        guard plain.count >= 6 else { return false }
        return sixthCharacters.contains(plain[plain.index(plain.startIndex, offsetBy: 5)])
    }
}

/// Finds the codes an instructional note names and maps them to concepts.
struct ICD10CMCodeResolver {
    struct Reference: Equatable {
        var start: String
        var end: String?
        /// The reference as written, e.g. "P35-P39" or "T81.44-".
        var text: String
    }

    let conceptOfCode: [String: String]
    let conceptOfRange: [String: String]
    /// Dot-free codes grouped by length, sorted, for range expansion.
    private let sortedCodesByLength: [Int: [(plain: String, dotted: String)]]

    init(conceptOfCode: [String: String], conceptOfRange: [String: String]) {
        self.conceptOfCode = conceptOfCode
        self.conceptOfRange = conceptOfRange
        var grouped: [Int: [(plain: String, dotted: String)]] = [:]
        for code in conceptOfCode.keys {
            let plain = code.replacingOccurrences(of: ".", with: "")
            grouped[plain.count, default: []].append((plain, code))
        }
        sortedCodesByLength = grouped.mapValues { $0.sorted { $0.plain < $1.plain } }
    }

    /// Concepts a reference names: a section or chapter whose range it is,
    /// the code itself, or every code of the same length within the range.
    func resolve(_ reference: Reference) -> [String] {
        guard let end = reference.end else {
            return conceptOfCode[reference.start].map { [$0] } ?? []
        }
        if let concept = conceptOfRange["\(reference.start)-\(end)"] { return [concept] }
        let low = reference.start.replacingOccurrences(of: ".", with: "")
        let high = end.replacingOccurrences(of: ".", with: "")
        guard low.count == high.count, low <= high, let codes = sortedCodesByLength[low.count] else { return [] }
        var first = 0, last = codes.count
        while first < last {
            let middle = (first + last) / 2
            if codes[middle].plain < low { first = middle + 1 } else { last = middle }
        }
        var result: [String] = []
        var index = first
        while index < codes.count, codes[index].plain <= high {
            if let concept = conceptOfCode[codes[index].dotted] { result.append(concept) }
            index += 1
        }
        return result
    }

    /// Scans text for ICD-10-CM code references: "A41.9", "T81.44-" (the code
    /// and its subcodes), "P35-P39" and "P36.0-P36.1" (ranges).
    static func references(in text: String) -> [Reference] {
        let characters = Array(text)
        var references: [Reference] = []
        var index = 0
        while index < characters.count {
            let boundary = index == 0 || !isCodeCharacter(characters[index - 1])
            guard boundary, let (start, afterStart) = code(in: characters, at: index) else {
                index += 1
                continue
            }
            var reference = Reference(start: start, end: nil, text: start)
            var cursor = afterStart
            if cursor < characters.count, characters[cursor] == "-" {
                if let (end, afterEnd) = code(in: characters, at: cursor + 1) {
                    reference.end = end
                    reference.text = start + "-" + end
                    cursor = afterEnd
                } else {
                    reference.text = start + "-"
                    cursor += 1
                }
            }
            references.append(reference)
            index = cursor
        }
        return references
    }

    private static func isCodeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isNumber || character.isUppercase || character.isLowercase)
    }

    /// A code starting at `index`: letter, digit, digit-or-letter, then
    /// optionally a dot and one to four digits or letters.
    private static func code(in characters: [Character], at index: Int) -> (String, Int)? {
        guard index + 3 <= characters.count else { return nil }
        let (a, b, c) = (characters[index], characters[index + 1], characters[index + 2])
        guard a.isASCII, a.isUppercase, b.isASCII, b.isNumber, c.isASCII, c.isNumber || c.isUppercase else { return nil }
        var cursor = index + 3
        var text = String([a, b, c])
        if cursor + 1 < characters.count, characters[cursor] == "." {
            var suffix = ""
            var probe = cursor + 1
            while probe < characters.count, suffix.count < 4,
                  characters[probe].isASCII, characters[probe].isNumber || characters[probe].isUppercase {
                suffix.append(characters[probe])
                probe += 1
            }
            if !suffix.isEmpty {
                text += "." + suffix
                cursor = probe
            }
        }
        if cursor < characters.count, isCodeCharacter(characters[cursor]) { return nil }
        return (text, cursor)
    }
}
