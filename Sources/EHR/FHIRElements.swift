import Foundation
import TGSupport

/// Reading FHIR R4 data types out of parsed JSON.
enum FHIR {
    static let icd10cm = "http://hl7.org/fhir/sid/icd-10-cm"
    static let icd9cm = "http://hl7.org/fhir/sid/icd-9-cm"
    static let loinc = "http://loinc.org"
    static let rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    static let snomed = "http://snomed.info/sct"

    /// A short name for a code system URI, for record keys.
    static func systemName(_ uri: String) -> String {
        switch uri {
        case icd10cm: return "ICD-10-CM"
        case icd9cm: return "ICD-9-CM"
        case loinc: return "LOINC"
        case rxnorm: return "RxNorm"
        case snomed: return "SNOMED CT"
        case "http://www.ama-assn.org/go/cpt": return "CPT"
        case "http://www.cms.gov/Medicare/Coding/ICD10": return "ICD-10-PCS"
        case "http://hl7.org/fhir/sid/ndc": return "NDC"
        default: return uri
        }
    }

    struct Coding {
        var system: String?
        var code: String?
        var display: String?
    }

    static func codings(_ concept: JSONValue?) -> [Coding] {
        (concept?["coding"]?.arrayValue ?? []).map {
            Coding(system: $0["system"]?.stringValue, code: $0["code"]?.stringValue, display: $0["display"]?.stringValue)
        }
    }

    /// A CodeableConcept as people read it: its text, else the first
    /// coding's display, else the first code. Blank strings count as absent
    /// (some sources send `"display": ""`).
    static func text(_ concept: JSONValue?) -> String? {
        if let text = nonBlank(concept?["text"]?.stringValue) { return text }
        for coding in codings(concept) { if let display = nonBlank(coding.display) { return display } }
        for coding in codings(concept) { if let code = nonBlank(coding.code) { return code } }
        return nil
    }

    static func nonBlank(_ text: String?) -> String? {
        guard let text, let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return nil }
        // Most values are already trimmed: skip Foundation's trimming then.
        if !first.properties.isWhitespace, !last.properties.isWhitespace { return text }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The first coding of `concept` in `system`.
    static func coding(_ concept: JSONValue?, system: String) -> Coding? {
        codings(concept).first { $0.system == system && nonBlank($0.code) != nil }
    }

    /// Whether `text` is a FHIR id: 1 to 64 of A-Z, a-z, 0-9, "-" and ".".
    static func isID(_ text: some StringProtocol) -> Bool {
        (1...64).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x2E
        }
    }

    /// The id in a reference to a resource of `type`, parsed as FHIR
    /// defines references: relative `Type/id`, absolute
    /// `http(s)://base/Type/id`, either optionally followed by
    /// `/_history/version`, or a `urn:uuid:` / `urn:oid:` (returned whole).
    /// The id must be a FHIR id: `Patient/../../x` or `Patient/etc/passwd`
    /// is no reference at all (nil), never patient `..` or `etc`.
    static func referenceID(_ reference: JSONValue?, type: String) -> String? {
        guard let text = reference?["reference"]?.stringValue else { return nil }
        if text.hasPrefix("urn:uuid:") || text.hasPrefix("urn:oid:") {
            let rest = text.utf8.dropFirst(9)
            return !rest.isEmpty && rest.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2F }) ? text : nil
        }
        var path = Substring(text)
        if let scheme = text.range(of: "://") {
            // The service base may have any path; the reference is its last segments.
            path = text[scheme.upperBound...]
            guard let slash = path.firstIndex(of: "/") else { return nil }
            path = path[path.index(after: slash)...]
        }
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 4, parts[parts.count - 2] == "_history", isID(parts[parts.count - 1]) { parts.removeLast(2) }
        guard parts.count >= 2, parts[parts.count - 2] == Substring(type), isID(parts[parts.count - 1]) else { return nil }
        // A relative reference is exactly Type/id.
        if !text.contains("://"), parts.count != 2 { return nil }
        return String(parts[parts.count - 1])
    }

    /// A Quantity as "value unit".
    static func quantity(_ value: JSONValue?) -> (number: FieldValue, unit: String?)? {
        guard let value, let number = value["value"] else { return nil }
        let unit = nonBlank(value["unit"]?.stringValue) ?? nonBlank(value["code"]?.stringValue)
        switch number {
        case .integer(let integer): return (.integer(integer), unit)
        case .number(let double): return (.number(double), unit)
        default: return nil
        }
    }

    static func joined(_ values: [String?]) -> String? {
        let present = values.compactMap(nonBlank)
        return present.isEmpty ? nil : present.joined(separator: "; ")
    }
}

/// Builds a record's items, skipping absent values.
struct ItemList {
    var items: [Item] = []

    mutating func add(_ key: String, _ text: String?) {
        if let text = FHIR.nonBlank(text) { items.append(Item(key, .string(text))) }
    }

    mutating func add(_ key: String, _ value: FieldValue?) {
        if let value { items.append(Item(key, value)) }
    }
}
