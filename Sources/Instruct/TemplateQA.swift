import EHR
import Foundation
import TGSupport

/// Question/answer pairs made from one patient's events by templates: for
/// each template, the patient's candidates (a record, an item of an
/// admission, a window, a pair of items) are listed, `perTemplate` are
/// chosen by a generator seeded with the seed, the patient and the
/// template (the same pairs on every run and machine), and each answer is
/// computed from the record. A question the record answers two ways (two
/// values of one item at one time) is not asked.
public struct TemplateQA: Sendable {
    public let templates: [QATemplate]
    public var seed: UInt64 = 42
    public var perTemplate = 1

    public init(templates: [QATemplate]) { self.templates = templates }

    public struct Pair: Sendable, Equatable {
        public var id: String
        public var patient: String
        public var template: String
        public var kind: String
        public var question: String
        public var answer: String
        /// The events the answer reads (indexes into the patient's events).
        public var events: [Int]
        public var admission: String?
        /// The values the template put in the question (item names, times,
        /// admissions): a paraphrase must keep each of them.
        public var slots: [String] = []

        public func json(split: Split) -> JSONValue {
            var members: [(String, JSONValue)] = [
                ("id", .string(id)), ("patient", .string(patient)), ("split", .string(split.rawValue)), ("source", .string("template")),
                ("template", .string(template)), ("kind", .string(kind)), ("question", .string(question)), ("answer", .string(answer)),
                ("events", .array(events.map { .integer(Int64($0)) })),
            ]
            if let admission { members.append(("admission", .string(admission))) }
            members.append(("slots", .array(slots.map { .string($0) })))
            return .object(members)
        }
    }

    /// One value of one record, where it is.
    struct Reading {
        var event: Int
        var time: Timestamp
        var admission: String?
        var item: String
        var value: String?
        var unit: String?
        var flag: String?

        var valueWithUnit: String { [value, unit].compactMap { $0 }.joined(separator: " ") }
    }

    /// The readings of `template` in `patient` (records with its item, and
    /// its value when the kind needs one).
    static func readings(_ template: QATemplate, in patient: Patient) -> [Reading] {
        var found: [Reading] = []
        for (index, event) in patient.events.enumerated() where event.name == template.event {
            for record in event.records {
                func field(_ key: String?) -> String? {
                    guard let key, let item = record.items.first(where: { $0.key == key }) else { return nil }
                    var text = item.value.description
                    // Foundation's trimming, only where there is something to trim (it was a third of the time).
                    func blank(_ byte: UInt8?) -> Bool { byte == 0x20 || byte == 0x09 }
                    if blank(text.utf8.first) || blank(text.utf8.last) { text = text.trimmingCharacters(in: .whitespaces) }
                    return text.isEmpty ? nil : text
                }
                guard let item = field(template.item) else { continue }
                let value = field(template.value)
                if template.kind.needsValue && value == nil { continue }
                found.append(Reading(event: index, time: event.time, admission: event.admission, item: item, value: value,
                                     unit: field(template.unit), flag: field(template.flag)))
            }
        }
        return found
    }

    /// Which of `fields` the patient's events named `event` carry.
    static func fieldsSeen(_ fields: Set<String>, of event: String, in patient: Patient) -> Set<String> {
        var seen = Set<String>()
        for candidate in patient.events where candidate.name == event {
            for record in candidate.records { for item in record.items where fields.contains(item.key) { seen.insert(item.key) } }
            if seen.count == fields.count { break }
        }
        return seen
    }

    /// The pairs for one patient, and per template why none was made.
    public func pairs(for patient: Patient) -> [Pair] {
        var pairs: [Pair] = []
        for template in templates {
            var candidates = Self.candidates(template, in: patient)
            guard !candidates.isEmpty else { continue }
            var generator = SplitMix64(seed: StableHash.of("\(seed):\(patient.id):\(template.name)"))
            candidates.shuffle(using: &generator)
            for (number, candidate) in candidates.prefix(perTemplate).enumerated() {
                var made = candidate(&generator)
                made.id = "\(patient.id):\(template.name):\(number)"
                made.patient = patient.id
                made.template = template.name
                made.kind = template.kind.rawValue
                pairs.append(made)
            }
        }
        return pairs
    }

    typealias Candidate = (inout SplitMix64) -> Pair

    static func pair(_ template: QATemplate, _ values: [String: String], answer: String, events: [Int], admission: String?) -> Pair {
        Pair(id: "", patient: "", template: "", kind: "", question: template.ask(values), answer: answer, events: events, admission: admission,
             slots: values.keys.sorted().map { values[$0]! })
    }

    /// Every question `template` can ask of `patient`, each a closure that
    /// makes its pair (a which-first question draws its order).
    static func candidates(_ template: QATemplate, in patient: Patient) -> [Candidate] {
        let readings = readings(template, in: patient)
        guard !readings.isEmpty else { return [] }
        // Readings of one item in one admission, in time order.
        var groups: [String: [Reading]] = [:]
        var groupOrder: [String] = []
        for reading in readings where reading.admission != nil {
            let key = reading.admission! + "\u{0}" + reading.item
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(reading)
        }
        func sorted(_ list: [Reading]) -> [Reading] { list.sorted { ($0.time, $0.event) < ($1.time, $1.event) } }
        switch template.kind {
        case .valueAtTime:
            // One question per item and time, unless the record holds two values then.
            var byKey: [String: [Reading]] = [:]
            var order: [String] = []
            for reading in readings {
                let key = reading.item + "\u{0}" + String(reading.time.secondsSinceEpoch)
                if byKey[key] == nil { order.append(key) }
                byKey[key, default: []].append(reading)
            }
            return order.compactMap { key -> Candidate? in
                let same = byKey[key]!
                guard Set(same.map(\.valueWithUnit)).count == 1 else { return nil }
                let reading = same[0]
                return { _ in pair(template, ["item": reading.item, "time": reading.time.description],
                                   answer: reading.valueWithUnit, events: [reading.event], admission: reading.admission) }
            }
        case .firstValue, .lastValue:
            return groupOrder.compactMap { key -> Candidate? in
                let list = sorted(groups[key]!)
                guard list.count >= 2 else { return nil }
                let end = template.kind == .firstValue ? list.first! : list.last!
                // Two different values at the first (or last) time: no single answer.
                let tied = list.filter { $0.time == end.time }
                guard Set(tied.map(\.valueWithUnit)).count == 1 else { return nil }
                return { _ in pair(template, ["item": end.item, "admission": end.admission!],
                                   answer: "\(end.valueWithUnit) at \(end.time)", events: [end.event], admission: end.admission) }
            }
        case .count:
            return groupOrder.map { key -> Candidate in
                { _ in
                    let list = sorted(groups[key]!)
                    return pair(template, ["item": list[0].item, "admission": list[0].admission!],
                                answer: String(list.count), events: list.map(\.event), admission: list[0].admission)
                }
            }
        case .abnormalValues:
            // MIMIC-IV fills `flag` only when a result is abnormal, FHIR with
            // every interpretation: an item never flagged abnormal in the
            // admission has the answer "None".
            return groupOrder.map { key -> Candidate in
                { _ in
                    let list = sorted(groups[key]!)
                    let flagged = list.filter { template.isAbnormal($0.flag) }
                    let answer = flagged.isEmpty ? "None" : flagged.map { "\($0.valueWithUnit) at \($0.time)" }.joined(separator: "; ")
                    return pair(template, ["item": list[0].item, "admission": list[0].admission!],
                                answer: answer, events: flagged.map(\.event), admission: list[0].admission)
                }
            }
        case .itemsInInterval:
            let seconds = Int64(template.hours ?? 24) * 3600
            let starts = Array(Set(readings.map(\.time))).sorted()
            return starts.map { start -> Candidate in
                { _ in
                    let end = start.adding(seconds: seconds)
                    let inside = readings.filter { $0.time >= start && $0.time < end }
                    var seen = Set<String>()
                    let items = inside.map(\.item).filter { seen.insert($0.lowercased()).inserted }.sorted { $0.lowercased() < $1.lowercased() }
                    return pair(template, ["start": start.description, "end": end.description],
                                answer: items.joined(separator: "; "), events: Array(Set(inside.map(\.event))).sorted(), admission: nil)
                }
            }
        case .whichFirst:
            // Items of an admission by their first time; a pair of items first seen at different times.
            var firsts: [String: [(item: String, time: Timestamp, event: Int)]] = [:]
            var admissions: [String] = []
            for key in groupOrder {
                let first = sorted(groups[key]!)[0]
                if firsts[first.admission!] == nil { admissions.append(first.admission!) }
                firsts[first.admission!, default: []].append((first.item, first.time, first.event))
            }
            var candidates: [Candidate] = []
            for admission in admissions {
                let items = Array(firsts[admission]!.prefix(50))
                for i in items.indices {
                    for j in items.indices where j > i && items[i].time != items[j].time {
                        let (x, y) = (items[i], items[j])
                        let earlier = x.time < y.time ? x : y
                        candidates.append { generator in
                            let swapped = generator.next() & 1 == 1
                            let (a, b) = swapped ? (y, x) : (x, y)
                            return pair(template, ["a": a.item, "b": b.item, "admission": admission],
                                        answer: "\(earlier.item) (first at \(earlier.time))", events: [x.event, y.event].sorted(),
                                        admission: admission)
                        }
                    }
                }
            }
            return candidates
        case .admissionItems:
            var byAdmission: [String: [Reading]] = [:]
            var order: [String] = []
            for reading in readings where reading.admission != nil {
                if byAdmission[reading.admission!] == nil { order.append(reading.admission!) }
                byAdmission[reading.admission!, default: []].append(reading)
            }
            return order.map { admission -> Candidate in
                { _ in
                    let list = byAdmission[admission]!
                    var seen = Set<String>()
                    let items = list.map(\.item).filter { seen.insert($0.lowercased()).inserted }.sorted { $0.lowercased() < $1.lowercased() }
                    return pair(template, ["admission": admission], answer: items.joined(separator: "; "),
                                events: Array(Set(list.map(\.event))).sorted(), admission: admission)
                }
            }
        }
    }
}
