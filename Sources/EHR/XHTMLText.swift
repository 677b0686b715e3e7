import CLibXML2

/// Plain text of an XHTML fragment (FHIR narratives, `section.text.div`),
/// read with libxml2's HTML parser, which accepts XHTML and the HTML
/// entities (`&nbsp;`) that an XML parser would reject without a DTD.
///
/// Block elements (paragraphs, divisions, headings, list items, table rows,
/// line breaks) end a line; list items start with "- "; table cells are
/// separated by " | "; scripts and styles are dropped. Runs of blank lines
/// are folded to one and each line is trimmed.
public enum XHTMLText {
    public static func plainText(_ markup: String) -> String {
        var markup = markup
        guard !markup.isEmpty else { return "" }
        let options = Int32(HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
            | HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOIMPLIED.rawValue)
        let document: htmlDocPtr? = markup.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                htmlReadMemory($0.baseAddress, Int32($0.count), nil, "UTF-8", options)
            }
        }
        guard let document else { return "" }
        defer { xmlFreeDoc(document) }
        var output = ""
        var node = document.pointee.children
        while let current = node {
            collect(current, into: &output)
            node = current.pointee.next
        }
        return tidy(output)
    }

    private static let blocks: Set<String> = [
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section",
        "blockquote", "pre", "dt", "dd", "hr",
    ]

    private static func collect(_ node: xmlNodePtr, into output: inout String) {
        switch node.pointee.type {
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
            if let content = node.pointee.content { output += String(cString: content) }
        case XML_ELEMENT_NODE:
            let name = node.pointee.name.map { String(cString: $0).lowercased() } ?? ""
            if name == "script" || name == "style" { return }
            let isBlock = blocks.contains(name)
            if isBlock, !output.isEmpty, !output.hasSuffix("\n") { output += "\n" }
            if name == "li" { output += "- " }
            if name == "td" || name == "th", node.pointee.prev != nil { output += " | " }
            var child = node.pointee.children
            while let current = child {
                collect(current, into: &output)
                child = current.pointee.next
            }
            if isBlock, !output.hasSuffix("\n") { output += "\n" }
        default:
            var child = node.pointee.children
            while let current = child {
                collect(current, into: &output)
                child = current.pointee.next
            }
        }
    }

    private static func tidy(_ text: String) -> String {
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            let value = Substring(String(trimmed))
            if value.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(value)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}
