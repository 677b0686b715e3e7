import Foundation

/// Renders events as EHR-R1's markdown context: one block per event,
///
///     ## Event Title [YYYY-MM-DD HH:MM:SS]
///     - Key: value            (an event with one record)
///
/// or a markdown table with one header row of keys and one row per record
/// (an event with several records, such as a lab panel), followed by the
/// event's free text, if any.
///
/// A `ContextFormat` (from the task file) decides each event type's title,
/// the keys shown and their labels; without one (`.raw`) every key is shown
/// as it is stored. Rendered for a sample, nothing known only after the
/// sample's target time is shown: keys declared as known later are never
/// printed, any value that is a date/time after the target is left out, and
/// such dates in free text are blanked (`___`, as MIMIC's de-identification
/// writes them).
public struct TimelineRenderer: Sendable {
    public var format: ContextFormat
    /// Display names of event names not titled by the format; names not
    /// listed are shown with underscores as spaces, first letters raised.
    public var displayNames: [String: String]

    public init(format: ContextFormat = .raw, displayNames: [String: String] = TimelineRenderer.standardDisplayNames) {
        self.format = format
        self.displayNames = displayNames
    }

    /// MIMIC-IV's table names, for the raw view.
    public static let standardDisplayNames: [String: String] = [
        "admissions": "Admissions", "patients": "Patients", "transfers": "Transfers", "services": "Services",
        "diagnoses_icd": "Diagnoses ICD", "procedures_icd": "Procedures ICD", "procedures": "Procedures",
        "prescriptions": "Prescriptions", "emar": "EMAR", "poe": "POE", "omr": "OMR", "labevents": "Labevents",
        "microbiologyevents": "Microbiologyevents", "radiology": "Radiology", "discharge": "Discharge",
        "notes": "Notes", "observations": "Observations",
    ]

    public func displayName(_ name: String) -> String {
        if let title = format.events[name]?.title { return title }
        if let known = displayNames[name] { return known }
        return name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    /// A key as Python's `str.title()` writes it (`item_name` → `Item_Name`),
    /// the reference's way of labelling keys.
    public static func titled(_ key: String) -> String {
        var result = ""
        var previousIsLetter = false
        for character in key {
            let isLetter = character.isLetter
            result += isLetter ? (previousIsLetter ? character.lowercased() : character.uppercased()) : String(character)
            previousIsLetter = isLetter
        }
        return result
    }

    private func label(_ key: String, _ display: EventDisplay) -> String {
        if let label = display.labels[key] { return label }
        return format == .raw ? key : Self.titled(key)
    }

    /// One event's block, ending with a newline. With `cutoff`, nothing
    /// dated after it is shown.
    public func render(_ event: Event, cutoff: Timestamp? = nil) -> String {
        let display = format.display(event.name)
        func shown(_ value: FieldValue) -> String? {
            let text = value.description
            guard let cutoff, Self.mayBeTime(text), let time = Timestamp(parsing: text) else { return text }
            return time > cutoff ? nil : text
        }
        var keys: [String]
        if let listed = display.keys {
            keys = listed.filter { $0 != "text" && !display.laterKeys.contains($0) }
        } else {
            keys = []
            var seen = Set<String>()
            for record in event.records {
                for item in record.items where !display.laterKeys.contains(item.key) && seen.insert(item.key).inserted {
                    keys.append(item.key)
                }
            }
        }
        // Only keys some record has a value for.
        keys = keys.filter { key in event.records.contains { record in record[key].flatMap(shown).map { !$0.isEmpty } ?? false } }
        var text = "## \(displayName(event.name)) [\(event.time)]\n"
        if event.records.count == 1 {
            for key in keys {
                guard let value = event.records[0][key].flatMap(shown) else { continue }
                text += "- \(label(key, display)): \(Self.inline(value))\n"
            }
        } else if event.records.count > 1, !keys.isEmpty {
            text += "| " + keys.map { Self.cell(label($0, display)) }.joined(separator: " | ") + " |\n"
            // The reference's rule row in a context; the shorter one raw.
            text += "|" + String(repeating: format == .raw ? " --- |" : " ------ |", count: keys.count) + "\n"
            for record in event.records {
                text += "| " + keys.map { Self.cell(record[$0].flatMap(shown) ?? "") }.joined(separator: " | ") + " |\n"
            }
        }
        if display.showsText, let body = event.text, !body.isEmpty {
            let safe = cutoff.map { Self.blankingTimes(after: $0, in: body) } ?? body
            text += safe
            if !safe.hasSuffix("\n") { text += "\n" }
        }
        return text
    }

    /// The rendered context of `events` (in order, blocks separated by a
    /// blank line), after an optional `header` block that is always kept.
    /// With `maxTokens`, the oldest events not in `keep` are dropped until
    /// the estimate fits; returns how many were dropped.
    public func render(_ events: [Event], maxTokens: Int? = nil, keep: Set<Int> = [], cutoff: Timestamp? = nil,
                       header: String? = nil) -> (text: String, dropped: Int) {
        let blocks = events.map { render($0, cutoff: cutoff) }
        var included = Array(repeating: true, count: blocks.count)
        var dropped = 0
        if let maxTokens {
            var total = blocks.reduce(header.map { Self.estimatedTokens($0) + 1 } ?? 0) { $0 + Self.estimatedTokens($1) + 1 }
            for index in blocks.indices where total > maxTokens && !keep.contains(index) {
                included[index] = false
                total -= Self.estimatedTokens(blocks[index]) + 1
                dropped += 1
            }
        }
        let text = ([header].compactMap { $0 } + blocks.indices.filter { included[$0] }.map { blocks[$0] }).joined(separator: "\n")
        return (text, dropped)
    }

    /// A sample's context as a model sees it: the demographics block (when
    /// the format asks for it), then the context events, nothing dated after
    /// the target. Under a token budget the oldest events go first, but the
    /// admission event and the previous discharge summary (added to the
    /// context on purpose) stay.
    public func render(_ sample: Sample, of patient: Patient, maxTokens: Int? = nil) -> (text: String, dropped: Int) {
        let events = sample.contextEvents.filter { patient.events.indices.contains($0) }.map { patient.events[$0] }
        let keep = Set(events.indices.filter { events[$0].name == "admissions" || events[$0].name == "discharge" })
        let header = format.demographics ? Self.demographics(of: patient, at: sample.targetTime) : nil
        return render(events, maxTokens: maxTokens, keep: keep, cutoff: sample.targetTime, header: header)
    }

    /// `## Patient Demographics` with the age at `time` and the gender, from
    /// the patient's static facts: `birth_date` (FHIR), `anchor_age` and
    /// `anchor_year` (MIMIC-IV), or `age`; `gender` as M/F or male/female.
    public static func demographics(of patient: Patient, at time: Timestamp) -> String? {
        func fact(_ key: String) -> FieldValue? { patient.statics.first { $0.key == key }?.value }
        var text = "## Patient Demographics\n"
        if let age = age(of: patient, at: time) { text += "- Age: \(age)\n" }
        if let gender = fact("gender")?.description, !gender.isEmpty {
            switch gender.lowercased() {
            case "m", "male": text += "- Gender: Male\n"
            case "f", "female": text += "- Gender: Female\n"
            default: text += "- Gender: \(gender.prefix(1).uppercased() + gender.dropFirst())\n"
            }
        }
        // Nothing known, no block.
        return text.contains("\n- ") ? text : nil
    }

    static func age(of patient: Patient, at time: Timestamp) -> Int? {
        func fact(_ key: String) -> FieldValue? { patient.statics.first { $0.key == key }?.value }
        let now = time.components
        if let birth = fact("birth_date").flatMap({ Timestamp(parsing: $0.description) })?.components {
            let birthdayPassed = (now.month, now.day) >= (birth.month, birth.day)
            let years = now.year - birth.year - (birthdayPassed ? 0 : 1)
            return years >= 0 ? years : nil
        }
        if let anchorAge = fact("anchor_age").flatMap({ Int($0.description) }) {
            guard let anchorYear = fact("anchor_year").flatMap({ Int($0.description) }) else { return anchorAge }
            return max(0, anchorAge + now.year - anchorYear)
        }
        return fact("age").flatMap { Int($0.description) }
    }

    /// A rough token count for budgeting: one token per four UTF-8 bytes,
    /// the usual rule for English with BPE tokenizers (an estimate, never
    /// an exact count; keep a margin below a model's context).
    public static func estimatedTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    /// Cheap test before parsing: `YYYY-MM-DD...`.
    static func mayBeTime(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.count >= 10, let first = bytes.first, (48...57).contains(first) else { return false }
        return bytes[bytes.index(bytes.startIndex, offsetBy: 4)] == UInt8(ascii: "-")
    }

    /// `text` with every `YYYY-MM-DD[ HH:MM[:SS]]` later than `cutoff`
    /// replaced by `___`.
    static func blankingTimes(after cutoff: Timestamp, in text: String) -> String {
        let bytes = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Bool {
            guard at + count <= bytes.count else { return false }
            return bytes[at..<(at + count)].allSatisfy { (48...57).contains($0) }
        }
        func isDigit(_ at: Int) -> Bool { at >= 0 && at < bytes.count && (48...57).contains(bytes[at]) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var position = 0
        var changed = false
        while position < bytes.count {
            if !isDigit(position - 1), digits(position, 4), position + 10 <= bytes.count, bytes[position + 4] == UInt8(ascii: "-"),
               digits(position + 5, 2), bytes[position + 7] == UInt8(ascii: "-"), digits(position + 8, 2), !isDigit(position + 10) {
                var end = position + 10
                if end + 6 <= bytes.count, bytes[end] == UInt8(ascii: " ") || bytes[end] == UInt8(ascii: "T"),
                   digits(end + 1, 2), bytes[end + 3] == UInt8(ascii: ":"), digits(end + 4, 2) {
                    end += 6
                    if end + 3 <= bytes.count, bytes[end] == UInt8(ascii: ":"), digits(end + 1, 2) { end += 3 }
                }
                let candidate = String(decoding: bytes[position..<end], as: UTF8.self)
                if let time = Timestamp(parsing: candidate), time > cutoff {
                    output += Array("___".utf8)
                    changed = true
                } else {
                    output += bytes[position..<end]
                }
                position = end
                continue
            }
            output.append(bytes[position])
            position += 1
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }

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
