import Foundation
import Testing
import TGSupport
@testable import EHR

/// No context shows anything known only after its target: a cohort shaped
/// like MIMIC-IV (stays with discharge times and places, transfers and ICU
/// stays with out-times, diagnoses at discharge, notes that name later
/// dates), every sample of every task rendered and scanned.
@Suite struct LeakTests {
    static func time(_ text: String) -> Timestamp { Timestamp(parsing: text)! }

    static func record(_ items: [(String, FieldValue)]) -> Record { Record(items: items.map { Item($0.0, $0.1) }) }

    /// `patients` patients with two stays each, five days apart.
    static func cohort(patients: Int, seed: UInt64) -> [Patient] {
        var random = SplitMix64(seed: seed)
        func pick(_ count: Int) -> Int { Int(random.next() % UInt64(count)) }
        var result: [Patient] = []
        for p in 0..<patients {
            var events: [Event] = []
            var start = time("2150-03-01 08:00:00").adding(seconds: Int64(pick(86_400 * 30)))
            for stay in 0..<2 {
                let admission = "h\(p)-\(stay)"
                // The second stay is short: its diagnoses' window covers it.
                let discharge = start.adding(seconds: stay == 0 ? 3 * 86_400 + Int64(pick(86_400)) : 20 * 3_600)
                events.append(Event(name: "admissions", time: start, admission: admission, records: [record([
                    ("admission_type", .string("URGENT")), ("admission_location", .string("EMERGENCY ROOM")),
                    ("dischtime", .string(discharge.description)), ("discharge_location", .string("HOME")),
                    ("hospital_expire_flag", .integer(0)),
                ])]))
                events.append(Event(name: "transfers", time: start, admission: admission, records: [record([
                    ("eventtype", .string("admit")), ("careunit", .string("Medicine")),
                    ("outtime", .string(start.adding(seconds: 86_400).description)),
                ])]))
                events.append(Event(name: "icustays", time: start.adding(seconds: 3_600), admission: admission, records: [record([
                    ("first_careunit", .string("MICU")), ("outtime", .string(start.adding(seconds: 2 * 86_400).description)),
                    ("los", .number(2.1)),
                ])]))
                var at = start.adding(seconds: 1_800)
                while at < discharge.adding(seconds: -3_600) {
                    let labs = (0..<(1 + pick(4))).map { _ in
                        record([("item_name", .string(["Sodium", "Glucose", "Lactate", "Creatinine"][pick(4)])),
                                ("value", .string(String(100 + pick(50)))), ("valueuom", .string("mg/dL")),
                                ("storetime", .string(at.adding(seconds: 7_200).description))])
                    }
                    events.append(Event(name: "labevents", time: at, admission: admission, records: labs))
                    if pick(6) == 0 {
                        events.append(Event(name: "transfers", time: at.adding(seconds: 30), admission: admission, records: [record([
                            ("eventtype", .string("transfer")), ("careunit", .string(["Surgery", "Cardiology"][pick(2)])),
                            ("outtime", .string(discharge.description)),
                        ])]))
                    }
                    if pick(3) == 0 {
                        events.append(Event(name: "prescriptions", time: at.adding(seconds: 60), admission: admission, records: [record([
                            ("drug", .string(["Furosemide", "Heparin", "Insulin"][pick(3)])),
                            ("stoptime", .string(discharge.description)),
                        ])]))
                    }
                    at = at.adding(seconds: 2_400 + Int64(pick(3_600)))
                }
                events.append(Event(name: "diagnoses_icd", time: discharge, admission: admission, records: [
                    record([("long_title", .string("Sepsis"))]), record([("long_title", .string("Acute kidney failure"))]),
                ]))
                events.append(Event(name: "discharge", time: discharge.adding(seconds: 600), admission: admission,
                                    records: [record([("note_type", .string("DS"))])],
                                    text: "Discharged \(discharge.description). Follow up on \(discharge.adding(seconds: 20 * 86_400).description)."))
                start = discharge.adding(seconds: 5 * 86_400)
            }
            var patient = Patient(id: "p\(p)", statics: [Item("gender", .string(pick(2) == 0 ? "F" : "M")), Item("anchor_age", .integer(60)),
                                                          Item("anchor_year", .integer(2150)), Item("dod", .string("2151-01-01"))],
                                  events: events)
            patient.sortEvents()
            result.append(patient)
        }
        return result
    }

    /// Every `YYYY-MM-DD[ HH:MM[:SS]]` in `text`.
    static func times(in text: String) -> [Timestamp] {
        let pattern = try! NSRegularExpression(pattern: #"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?"#)
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).compactMap { match in
            Range(match.range, in: text).flatMap { Timestamp(parsing: text[$0]) }
        }
    }

    @Test func noContextShowsAnythingAfterItsTarget() throws {
        let standard = try TaskSet.standard()
        // Both the shipped rules and rules open to every window size.
        let open = standard.tasks.map { task in
            var task = task
            task.minContextEvents = 0
            return task
        }
        let renderer = TimelineRenderer(format: standard.format)
        var checked = 0
        var tasksSeen = Set<String>()
        for tasks in [standard.tasks, open] {
            let builder = SampleBuilder(tasks: tasks, seed: 1, testFraction: 0.2)
            for patient in Self.cohort(patients: 12, seed: 9) {
                for sample in builder.samples(for: patient) {
                    let text = renderer.render(sample, of: patient).text
                    for shown in Self.times(in: text) {
                        #expect(shown <= sample.targetTime, "\(sample.id): \(shown) after the target in\n\(text)")
                    }
                    for later in ["Dischtime", "Discharge_Location", "Hospital_Expire_Flag", "Outtime", "Los", "Storetime", "Stoptime",
                                  "HOME", "Dod"] {
                        #expect(!text.contains(later), "\(sample.id) shows \(later)")
                    }
                    #expect(text.hasPrefix("## Patient Demographics\n- Age: 60\n- Gender: "), "\(text.prefix(80))")
                    checked += 1
                    tasksSeen.insert(sample.task)
                }
            }
        }
        #expect(checked > 300)
        #expect(tasksSeen.isSuperset(of: ["labevents", "prescriptions", "diagnoses_icd", "transfers", "discharge", "next_event"]),
                "\(tasksSeen.sorted())")
    }

    @Test func laterDatesInFreeTextAreBlanked() {
        let cutoff = Self.time("2150-03-05 12:00:00")
        let text = "Seen 2150-03-04 and 2150-03-05 11:00. Follow up on 2150-03-20, call 2150-03-05 13:00:00; id 12150-03-30."
        #expect(TimelineRenderer.blankingTimes(after: cutoff, in: text)
                == "Seen 2150-03-04 and 2150-03-05 11:00. Follow up on ___, call ___; id 12150-03-30.")
    }

    @Test func ageIsTakenAtTheTargetTime() {
        let fhir = Patient(id: "f", statics: [Item("gender", .string("female")), Item("birth_date", .string("1980-06-15"))])
        #expect(TimelineRenderer.demographics(of: fhir, at: Self.time("2020-06-14 10:00:00")) == "## Patient Demographics\n- Age: 39\n- Gender: Female\n")
        #expect(TimelineRenderer.age(of: fhir, at: Self.time("2020-06-15 00:00:00")) == 40)
        let mimic = Patient(id: "m", statics: [Item("gender", .string("M")), Item("anchor_age", .integer(52)), Item("anchor_year", .integer(2180))])
        #expect(TimelineRenderer.age(of: mimic, at: Self.time("2183-01-01 00:00:00")) == 55)
        #expect(TimelineRenderer.demographics(of: Patient(id: "x"), at: Self.time("2020-01-01")) == nil)
    }
}
