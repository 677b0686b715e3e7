import CLibXML2
import Foundation
import TGSupport

/// The ICD-10-CM tabular list as a tree: chapters, sections, and nested
/// `diag` codes with their descriptions, inclusion terms, instructional notes
/// and seventh-character definitions.
struct ICD10CMTabular: Sendable {
    enum Kind: String, Sendable { case chapter, section, code }

    /// Notes that name other codes and become typed relations.
    static let relationNotes: [String: String] = [
        "excludes1": "excludes1", "excludes2": "excludes2", "codeFirst": "code_first",
        "useAdditionalCode": "use_additional_code", "codeAlso": "code_also",
    ]

    struct Node: Sendable {
        var kind: Kind
        /// Chapter number ("1"), section range ("A00-A09") or code ("A00.0").
        var code: String
        var description = ""
        var line: Int
        var parent: Int?
        var children: [Int] = []
        var inclusionTerms: [String] = []
        /// (relation name, note text) for excludes1/2, code first, ...
        var notes: [(relation: String, text: String)] = []
        /// Seventh characters defined here: (character, meaning).
        var seventhCharacters: [(character: String, meaning: String)] = []
        /// The `sevenChrNote` and general `notes` texts, which may restrict
        /// which seventh characters apply.
        var seventhCharacterNotes: [String] = []
    }

    var nodes: [Node]
    var version: String?
    var file: LexiconManifest.FileRecord
}

/// Reads the tabular XML with libxml2's streaming reader (xmlTextReader):
/// the file is never held as a DOM, and errors carry libxml2's line number.
struct ICD10CMParser {
    let path: String

    /// Collects the first error libxml2 reports through the reader's handler.
    private final class ErrorSink {
        var message: String?
        var line: Int?
    }

    func parse() throws -> ICD10CMTabular {
        // Fingerprint and size first (cheap: one streaming pass); it also
        // turns a missing file into the same error every importer gives.
        let digest = try LineReader(path: path, computeDigest: true)
        while try digest.nextLine() != nil {}
        let record = LexiconManifest.FileRecord(path: path, bytes: digest.bytesRead, sha256: digest.hexDigest())

        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_COMPACT.rawValue | XML_PARSE_HUGE.rawValue)
        guard let reader = xmlReaderForFile(path, nil, options) else {
            throw InputError(file: path, message: "libxml2 cannot open the file")
        }
        defer { xmlFreeTextReader(reader) }
        let sink = ErrorSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        xmlTextReaderSetErrorHandler(reader, { context, message, _, locator in
            guard let context else { return }
            let sink = Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue()
            guard sink.message == nil else { return }
            sink.message = message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "XML error"
            if let locator { sink.line = Int(xmlTextReaderLocatorLineNumber(locator)) }
        }, sinkPointer)

        var builder = TreeBuilder(path: path)
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 || sink.message != nil {
                throw InputError(file: path, line: sink.line ?? Int(xmlTextReaderGetParserLineNumber(reader)),
                                 message: "malformed XML: \(sink.message ?? "parse error")")
            }
            let line = Int(xmlTextReaderGetParserLineNumber(reader))
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = Self.string(xmlTextReaderConstLocalName(reader))
                var attributes: [String: String] = [:]
                for attribute in ["id", "char"] where xmlTextReaderMoveToAttribute(reader, attribute) == 1 {
                    attributes[attribute] = Self.string(xmlTextReaderConstValue(reader))
                    xmlTextReaderMoveToElement(reader)
                }
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                try builder.open(name, attributes: attributes, line: line)
                if isEmpty { try builder.close(name, line: line) }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                try builder.close(Self.string(xmlTextReaderConstLocalName(reader)), line: line)
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue):
                builder.text(Self.string(xmlTextReaderConstValue(reader)))
            default:
                break
            }
        }
        guard builder.sawRoot else {
            throw InputError(file: path, message: "not an ICD-10-CM tabular file (no <ICD10CM.tabular> root)")
        }
        return ICD10CMTabular(nodes: builder.nodes, version: builder.version, file: record)
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    /// Turns the element events into the tree.
    private struct TreeBuilder {
        let path: String
        var nodes: [ICD10CMTabular.Node] = []
        var version: String?
        var sawRoot = false
        private var elements: [String] = []
        private var openNodes: [Int] = []
        private var text = ""
        private var extensionCharacter: String?

        init(path: String) { self.path = path }

        private static let textElements: Set<String> = ["name", "desc", "note", "extension", "version"]

        mutating func open(_ name: String, attributes: [String: String], line: Int) throws {
            if elements.isEmpty {
                guard name == "ICD10CM.tabular" else {
                    throw InputError(file: path, line: line, field: name,
                                     message: "not an ICD-10-CM tabular file (root element is <\(name)>)")
                }
                sawRoot = true
            }
            elements.append(name)
            if Self.textElements.contains(name) { text = "" }
            switch name {
            case "chapter":
                startNode(.chapter, code: "", line: line)
            case "section":
                guard let id = attributes["id"], !id.isEmpty else {
                    throw InputError(file: path, line: line, field: "section.id", message: "section without an id")
                }
                startNode(.section, code: id, line: line)
            case "diag":
                guard let parent = openNodes.last, nodes[parent].kind != .chapter else {
                    throw InputError(file: path, line: line, field: "diag", message: "<diag> outside a section")
                }
                startNode(.code, code: "", line: line)
            case "extension":
                extensionCharacter = attributes["char"]
            default:
                break
            }
        }

        private mutating func startNode(_ kind: ICD10CMTabular.Kind, code: String, line: Int) {
            let index = nodes.count
            nodes.append(.init(kind: kind, code: code, line: line, parent: openNodes.last))
            if let parent = openNodes.last { nodes[parent].children.append(index) }
            openNodes.append(index)
        }

        mutating func text(_ value: String) { text += value }

        /// The codes seen so far (each may appear once).
        var seenCodes = Set<String>()

        mutating func close(_ name: String, line: Int) throws {
            guard elements.last == name else {
                throw InputError(file: path, line: line, message: "unexpected </\(name)>")
            }
            elements.removeLast()
            let container = elements.last ?? ""
            let value = text.collapsingWhitespace()
            switch name {
            case "version" where container == "ICD10CM.tabular":
                version = value
            case "chapter", "section", "diag":
                let index = openNodes.removeLast()
                let node = nodes[index]
                if node.code.isEmpty {
                    throw InputError(file: path, line: node.line, field: "\(name).name", message: "<\(name)> without a <name>")
                }
                if node.description.isEmpty {
                    throw InputError(file: path, line: node.line, field: "\(name).desc",
                                     message: "\(node.code) has no <desc>")
                }
                if node.kind == .code {
                    // A code is letters, digits and dots (A00.0, S72.001A); `../../etc` is not one.
                    guard node.code.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || $0 == 0x2E }),
                          node.code.utf8.count <= 8 else {
                        throw InputError(file: path, line: node.line, field: "diag.name", message: "\"\(node.code)\" is not an ICD-10-CM code")
                    }
                    guard seenCodes.insert(node.code).inserted else {
                        throw InputError(file: path, line: node.line, field: "diag.name", message: "code \(node.code) appears twice")
                    }
                }
            case "name" where ["chapter", "diag"].contains(container):
                nodes[openNodes.last!].code = value
            case "desc" where ["chapter", "section", "diag"].contains(container):
                nodes[openNodes.last!].description = value
            case "note":
                guard let owner = openNodes.last, elements.count >= 2 else { break }
                let noteKind = container
                if noteKind == "inclusionTerm", nodes[owner].kind == .code {
                    nodes[owner].inclusionTerms.append(value)
                } else if noteKind == "sevenChrNote" || noteKind == "notes" {
                    nodes[owner].seventhCharacterNotes.append(value)
                } else if let relation = ICD10CMTabular.relationNotes[noteKind] {
                    nodes[owner].notes.append((relation, value))
                }
            case "extension" where container == "sevenChrDef":
                guard let character = extensionCharacter, character.count == 1 else {
                    throw InputError(file: path, line: line, field: "extension.char",
                                     message: "seventh-character extension without a one-character 'char'")
                }
                if let owner = openNodes.last { nodes[owner].seventhCharacters.append((character, value)) }
            default:
                break
            }
        }
    }
}

extension String {
    /// Runs of white space folded to one space, ends trimmed.
    func collapsingWhitespace() -> String {
        split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
