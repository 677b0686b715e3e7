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
        // Byte-level: trim spaces and tabs around each line, fold runs of
        // blank lines, drop leading and trailing blank lines.
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var pendingBlank = false
        for line in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var start = line.startIndex, end = line.endIndex
            while start < end, line[start] == 0x20 || line[start] == 0x09 { start = line.index(after: start) }
            while end > start, line[line.index(before: end)] == 0x20 || line[line.index(before: end)] == 0x09 {
                end = line.index(before: end)
            }
            if start == end {
                pendingBlank = !output.isEmpty
                continue
            }
            if !output.isEmpty { output.append(0x0A) }
            if pendingBlank { output.append(0x0A) }
            pendingBlank = false
            output.append(contentsOf: line[start..<end])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
