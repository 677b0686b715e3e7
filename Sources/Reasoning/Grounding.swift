import Foundation
import Runtime

/// The events of a rendered context: each `## Title [time]` heading with the
/// numbers under it.
public struct ContextEvents: Sendable {
    public struct Event: Sendable {
        /// Lowercase letters and digits of the title ("laboratorytestevents").
        public var name: String
        /// The time as written, digits only (`202511171700` or with seconds).
        public var time: String
        public var numbers: [Double]
    }

    public var events: [Event] = []
    /// Every number of the context, headings' times aside (demographics too).
    public var numbers: [Double] = []

    public init(rendered context: String) {
        var current: Event?
        func close() {
            if let current { events.append(current) }
            current = nil
        }
        for line in context.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") {
                close()
                let heading = line.dropFirst(3)
                if let open = heading.lastIndex(of: "["), heading.hasSuffix("]") {
                    let title = heading[..<open]
                    let time = heading[heading.index(after: open)..<heading.index(before: heading.endIndex)]
                    current = Event(name: Self.nameKey(title), time: Self.timeKey(time), numbers: [])
                }
                continue
            }
            let found = Self.numbers(in: line)
            numbers += found
            current?.numbers += found
        }
        close()
    }

    /// Lowercase letters and digits only: "Laboratory Test Events" and
    /// "laboratory-test events" are one name.
    static func nameKey(_ text: some StringProtocol) -> String {
        String(text.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }.map(Character.init))
    }

    /// The digits of a time: `2025-11-17 17:00:00`, `2025-11-17T17:00` and
    /// `2025/11/17 17:00` compare by their digits.
    static func timeKey(_ text: some StringProtocol) -> String {
        String(text.filter(\.isNumber))
    }

    /// The decimal numbers of a line (a leading minus kept).
    static func numbers(in text: some StringProtocol) -> [Double] {
        var found: [Double] = []
        var current = ""
        var previous: Character = " "
        func close() {
            if let value = Double(current), current != "-", current != "." { found.append(value) }
            current = ""
        }
        for character in text {
            if character.isASCII && character.isNumber {
                if current.isEmpty && previous == "-" { current = "-" }
                current.append(character)
            } else if character == ".", !current.isEmpty, !current.contains(".") {
                current.append(character)
            } else {
                if current.hasSuffix(".") { current.removeLast() }
                close()
            }
            previous = character
        }
        if current.hasSuffix(".") { current.removeLast() }
        close()
        return found
    }

    /// Whether the context has an event named `name` at `time` (compared at
    /// the precision the chain wrote: a date alone matches any time that
    /// day, minutes match any second of that minute).
    func has(name: String, time: String) -> (named: Bool, atTime: Bool) {
        let key = Self.nameKey(name), when = Self.timeKey(time)
        let named = events.filter { Self.sameName($0.name, key) }
        guard !when.isEmpty else { return (!named.isEmpty, false) }
        return (!named.isEmpty, named.contains { $0.time.hasPrefix(when) || when.hasPrefix($0.time) })
    }

    /// Titles as the chain may write them: the same letters, or one inside
    /// the other ("Laboratory Test Events" / "Laboratory Test"), or the
    /// event's table name ("labevents").
    static func sameName(_ title: String, _ cited: String) -> Bool {
        guard !cited.isEmpty else { return false }
        if title == cited || title.hasPrefix(cited) || cited.hasPrefix(title) { return true }
        return (aliases[cited] ?? []).contains(title)
    }

    /// MIMIC-IV table names → the titles the shipped task files give them.
    static let aliases: [String: Set<String>] = [
        "labevents": ["laboratorytestevents", "labevents"], "omr": ["onlinemedicalrecord"],
        "poe": ["providerorderentry"], "emar": ["electronicmedicineadministrationrecord"],
        "diagnosesicd": ["diagnosesoninternationalclassificationofdiseases"],
        "proceduresicd": ["proceduresoninternationalclassificationofdiseases"],
        "microbiologyevents": ["microbiologytestevents"],
    ]
}

extension Grounding {
    /// Units a quoted number must carry to be checked: anything with a
    /// slash (mg/dL, mmol/L, /min) and these.
    static let units: Set<String> = [
        "%", "mmhg", "mm[hg]", "bpm", "°c", "°f", "kg", "cm", "mg", "mcg", "µg", "μg", "g", "ml", "l", "meq", "mmol", "iu", "units",
        "u", "ng", "pg", "kpa", "mosm", "fl", "lbs", "lb", "in", "breaths",
    ]

    /// The chain's claims against `context`.
    public static func check(chain text: String, context: ContextEvents) -> Grounding {
        var grounding = Grounding()
        for (name, time, written) in citations(in: text) {
            grounding.cited += 1
            let found = context.has(name: name, time: time)
            if found.atTime {
                grounding.citedFound += 1
            } else {
                grounding.unsupported.append(found.named ? "\(written): no such event at that time" : "\(written): no such event")
            }
        }
        for (value, decimals, written) in quotedValues(in: text) {
            grounding.values += 1
            let tolerance = 0.5 * pow(10, -Double(decimals)) + 1e-9
            if context.numbers.contains(where: { abs($0 - value) <= tolerance || abs($0 - value) <= abs($0) * 0.005 }) {
                grounding.valuesMatched += 1
            } else {
                grounding.unsupported.append("\(written): no such value in the context")
            }
        }
        return grounding
    }

    /// `**Event Name [Event Time]**` citations: (name, time, as written).
    static func citations(in text: String) -> [(String, String, String)] {
        var found: [(String, String, String)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "**") {
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "**") else { break }
            let inner = after[..<close.lowerBound]
            rest = after[close.upperBound...]
            guard let bracket = inner.lastIndex(of: "["), inner.hasSuffix("]") else { continue }
            let name = inner[..<bracket].trimmingCharacters(in: .whitespaces)
            let time = String(inner[inner.index(after: bracket)..<inner.index(before: inner.endIndex)])
            // A time has digits; "[YOUR OUTPUT]" and the like are no citation.
            guard !name.isEmpty, time.contains(where: \.isNumber) else { continue }
            found.append((name, time, "**\(inner)**"))
        }
        return found
    }

    /// Numbers followed by a unit: (value, decimals written, as written).
    static func quotedValues(in text: String) -> [(Double, Int, String)] {
        var found: [(Double, Int, String)] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let startsNumber = character.isASCII && character.isNumber
                && (index == 0 || !(characters[index - 1].isLetter || characters[index - 1] == "." || characters[index - 1].isNumber
                                    || characters[index - 1] == "/" || characters[index - 1] == "-" && index >= 2 && characters[index - 2].isNumber))
            guard startsNumber else {
                index += 1
                continue
            }
            var end = index
            while end < characters.count, characters[end].isASCII && characters[end].isNumber { end += 1 }
            var decimals = 0
            if end + 1 < characters.count, characters[end] == ".", characters[end + 1].isNumber {
                end += 1
                while end < characters.count, characters[end].isASCII && characters[end].isNumber {
                    end += 1
                    decimals += 1
                }
            }
            let number = String(characters[index..<end])
            // A time or date ("17:00", "2025-11-17") is no value.
            if end < characters.count, characters[end] == ":" || characters[end] == "-" && end + 1 < characters.count && characters[end + 1].isNumber {
                index = end + 1
                continue
            }
            var unitStart = end
            while unitStart < characters.count, characters[unitStart] == " " { unitStart += 1 }
            var unitEnd = unitStart
            while unitEnd < characters.count, !characters[unitEnd].isWhitespace,
                  !",;)(".contains(characters[unitEnd]) {
                unitEnd += 1
            }
            var unit = String(characters[unitStart..<unitEnd]).lowercased()
            while let last = unit.last, ".:".contains(last) { unit.removeLast() }
            let isUnit = unit == "%" || units.contains(unit)
                || (unit.contains("/") && unit.first.map { $0.isLetter || $0 == "/" || $0 == "µ" || $0 == "μ" } == true
                    && unit.contains(where: \.isLetter))
            if isUnit, let value = Double(number) {
                found.append((value, decimals, String(characters[index..<(unitStart + unit.count)])))
            }
            index = end
        }
        return found
    }
}
