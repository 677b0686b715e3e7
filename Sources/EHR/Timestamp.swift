/// A point in time at one-second resolution without a time zone, as MIMIC
/// records it: seconds since 1970-01-01 00:00:00 on the proleptic Gregorian
/// calendar. MIMIC's shifted years (2100-2200) are ordinary values here.
///
/// Inputs that carry a zone offset (FHIR's `2025-08-27T08:34:00Z`,
/// `...+02:00`) are converted to UTC first, so events from different sources
/// of one patient order correctly; fractions of a second are dropped.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var secondsSinceEpoch: Int64

    public init(secondsSinceEpoch: Int64) { self.secondsSinceEpoch = secondsSinceEpoch }

    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...Timestamp.daysInMonth(year: year, month: month)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        secondsSinceEpoch = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.secondsSinceEpoch < rhs.secondsSinceEpoch }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fff]]` or the same with `T`
    /// and an optional `Z` / `±HH:MM` offset. Nil for anything else or for an
    /// impossible date or time (2023-02-30, 25:00).
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ digits: Int) -> Int? {
            guard position + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[position + offset]
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            position += digits
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
              let day = number(2) else { return nil }
        var hour = 0, minute = 0, second = 0, offsetSeconds = 0
        if position < bytes.count {
            guard expect(UInt8(ascii: " ")) || expect(UInt8(ascii: "T")) else { return nil }
            guard let h = number(2), expect(UInt8(ascii: ":")), let m = number(2) else { return nil }
            (hour, minute) = (h, m)
            if expect(UInt8(ascii: ":")) {
                guard let s = number(2) else { return nil }
                second = s
                if expect(UInt8(ascii: ".")) {
                    let first = position
                    while position < bytes.count, (48...57).contains(bytes[position]) { position += 1 }
                    guard position > first else { return nil }
                }
            }
            if expect(UInt8(ascii: "Z")) {
                // UTC already.
            } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
                position += 1
                guard let oh = number(2), expect(UInt8(ascii: ":")), let om = number(2), oh <= 14, om <= 59 else { return nil }
                offsetSeconds = sign * (oh * 3600 + om * 60)
            }
            guard position == bytes.count else { return nil }
        }
        guard let local = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        secondsSinceEpoch = local.secondsSinceEpoch - Int64(offsetSeconds)
    }

    public struct Components: Equatable, Sendable {
        public var year, month, day, hour, minute, second: Int
    }

    public var components: Components {
        let days = secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400
        let seconds = Int(secondsSinceEpoch - days * 86_400)
        let (year, month, day) = Timestamp.civilFromDays(days)
        return Components(year: year, month: month, day: day, hour: seconds / 3600, minute: seconds / 60 % 60,
                          second: seconds % 60)
    }

    /// `YYYY-MM-DD HH:MM:SS`, the form MIMIC and EHR-R1 print.
    public var description: String {
        let c = components
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2)) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
    }

    public func adding(seconds: Int64) -> Timestamp { Timestamp(secondsSinceEpoch: secondsSinceEpoch + seconds) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil and its inverse.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month), d = Int64(day)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
