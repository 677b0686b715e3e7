import Foundation

/// Renders events as EHR-R1's markdown context: one block per event,
///
///     ## Event Name [YYYY-MM-DD HH:MM:SS]
///     - key: value            (an event with one record)
///
/// or a markdown table with one header row of keys and one row per record
/// (an event with several records, such as a lab panel), followed by the
/// event's free text, if any.
public struct TimelineRenderer: Sendable {
    /// Display names of event names (`labevents` → `Labevents`); names not
    /// listed are shown with underscores as spaces, first letters raised.
    public var displayNames: [String: String]

    public init(displayNames: [String: String] = TimelineRenderer.standardDisplayNames) {
        self.displayNames = displayNames
    }

    /// MIMIC-IV's table names as EHR-R1 shows them.
    public static let standardDisplayNames: [String: String] = [
        "admissions": "Admissions", "patients": "Patients", "transfers": "Transfers", "services": "Services",
        "diagnoses_icd": "Diagnoses ICD", "procedures_icd": "Procedures ICD", "procedures": "Procedures",
        "prescriptions": "Prescriptions", "emar": "EMAR", "poe": "POE", "omr": "OMR", "labevents": "Labevents",
        "microbiologyevents": "Microbiologyevents", "radiology": "Radiology", "discharge": "Discharge",
        "notes": "Notes", "observations": "Observations",
    ]

    public func displayName(_ name: String) -> String {
        if let known = displayNames[name] { return known }
        return name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    /// One event's block, ending with a newline.
    public func render(_ event: Event) -> String {
        var text = "## \(displayName(event.name)) [\(event.time)]\n"
        if event.records.count == 1 {
            for item in event.records[0].items {
                text += "- \(item.key): \(Self.inline(item.value.description))\n"
            }
        } else if event.records.count > 1 {
            var keys: [String] = []
            var seen = Set<String>()
            for record in event.records {
                for item in record.items where seen.insert(item.key).inserted { keys.append(item.key) }
            }
            text += "| " + keys.map(Self.cell).joined(separator: " | ") + " |\n"
            text += "|" + String(repeating: " --- |", count: keys.count) + "\n"
            for record in event.records {
                text += "| " + keys.map { Self.cell(record[$0]?.description ?? "") }.joined(separator: " | ") + " |\n"
            }
        }
        if let body = event.text, !body.isEmpty {
            text += body
            if !body.hasSuffix("\n") { text += "\n" }
        }
        return text
    }

    /// The rendered context of `events` (in order, blocks separated by a
    /// blank line). With `maxTokens`, the oldest events not in `keep` are
    /// dropped until the estimate fits; returns how many were dropped.
    public func render(_ events: [Event], maxTokens: Int? = nil, keep: Set<Int> = []) -> (text: String, dropped: Int) {
        let blocks = events.map(render)
        var included = Array(repeating: true, count: blocks.count)
        var dropped = 0
        if let maxTokens {
            var total = blocks.reduce(0) { $0 + Self.estimatedTokens($1) + 1 }
            for index in blocks.indices where total > maxTokens && !keep.contains(index) {
                included[index] = false
                total -= Self.estimatedTokens(blocks[index]) + 1
                dropped += 1
            }
        }
        let text = blocks.indices.filter { included[$0] }.map { blocks[$0] }.joined(separator: "\n")
        return (text, dropped)
    }

    /// A rough token count for budgeting: one token per four UTF-8 bytes,
    /// the usual rule for English with BPE tokenizers (an estimate, never
    /// an exact count; keep a margin below a model's context).
    public static func estimatedTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    static func inline(_ value: String) -> String {
        // Most values are plain ASCII without line breaks: a byte scan
        // settles them without walking characters.
        guard value.utf8.contains(where: { (0x0A...0x0D).contains($0) || $0 >= 0x80 }) else { return value }
        return value.contains(where: \.isNewline) ? value.split(whereSeparator: \.isNewline).joined(separator: " ") : value
    }

    static func cell(_ value: String) -> String {
        let line = inline(value)
        return line.utf8.contains(UInt8(ascii: "|")) ? line.replacingOccurrences(of: "|", with: "\\|") : line
    }
}
