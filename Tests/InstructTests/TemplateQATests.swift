import EHR
import Foundation
import Testing
@testable import Instruct
import TGSupport

/// Template questions on a hand-made patient: each kind's answer, and the
/// template file's checks.
@Suite struct TemplateQATests {
    static func time(_ hour: Int, day: Int = 1) -> Timestamp { Timestamp(year: 2100, month: 1, day: day, hour: hour)! }

    static func lab(_ hour: Int, _ values: [(String, String, Bool)], admission: String = "h1") -> Event {
        Event(name: "labevents", time: time(hour), admission: admission, records: values.map { name, value, abnormal in
            Record(items: [Item("item_name", .string(name)), Item("value", .string(value)), Item("valueuom", .string("mmol/L"))]
                   + (abnormal ? [Item("flag", .string("abnormal"))] : []))
        })
    }

    static let patient = Patient(id: "p1", events: [
        lab(8, [("Sodium", "131", true), ("Potassium", "4.1", false)]),
        lab(12, [("Sodium", "136", false)]),
        lab(16, [("Sodium", "129", true), ("Creatinine", "2.0", true)]),
        Event(name: "prescriptions", time: time(9), admission: "h1", records: [Record(items: [Item("drug", .string("Heparin"))])]),
        Event(name: "prescriptions", time: time(20), admission: "h1", records: [Record(items: [Item("drug", .string("Furosemide"))])]),
        Event(name: "prescriptions", time: time(10, day: 2), admission: "h1", records: [Record(items: [Item("drug", .string("heparin"))])]),
        Event(name: "diagnoses_icd", time: time(23), admission: "h1", records: [Record(items: [Item("long_title", .string("Sepsis"))]),
                                                                                 Record(items: [Item("long_title", .string("Anemia"))])]),
    ])

    static func template(_ kind: QATemplate.Kind, event: String = "labevents", item: String = "item_name", question: String) -> QATemplate {
        QATemplate(name: kind.rawValue, kind: kind, event: event, item: item, value: kind.needsValue ? "value" : nil, unit: "valueuom",
                   flag: "flag", hours: kind == .itemsInInterval ? 24 : nil, question: question)
    }

    /// Every pair a template can make of the patient.
    static func all(_ template: QATemplate) -> [String: String] {
        var generator = SplitMix64Wrapper.make()
        return Dictionary(TemplateQA.candidates(template, in: patient).map { make in
            let pair = make(&generator)
            return (pair.question, pair.answer)
        }, uniquingKeysWith: { first, _ in first })
    }

    @Test func eachKindAnswersFromTheRecord() {
        #expect(Self.all(Self.template(.valueAtTime, question: "{item} at {time}?"))["Sodium at 2100-01-01 12:00:00?"] == "136 mmol/L")
        #expect(Self.all(Self.template(.firstValue, question: "first {item} in {admission}?")) == ["first Sodium in h1?": "131 mmol/L at 2100-01-01 08:00:00"])
        #expect(Self.all(Self.template(.lastValue, question: "last {item} in {admission}?")) == ["last Sodium in h1?": "129 mmol/L at 2100-01-01 16:00:00"])
        let counts = Self.all(Self.template(.count, question: "{item} {admission}"))
        #expect(counts == ["Sodium h1": "3", "Potassium h1": "1", "Creatinine h1": "1"])
        let abnormal = Self.all(Self.template(.abnormalValues, question: "{item} {admission}"))
        #expect(abnormal["Sodium h1"] == "131 mmol/L at 2100-01-01 08:00:00; 129 mmol/L at 2100-01-01 16:00:00")
        #expect(abnormal["Potassium h1"] == "None")
        let drugs = Self.all(Self.template(.itemsInInterval, event: "prescriptions", item: "drug", question: "{start} to {end}"))
        #expect(drugs["2100-01-01 09:00:00 to 2100-01-02 09:00:00"] == "Furosemide; Heparin")
        // Heparin again the next day, spelt otherwise: one item.
        #expect(drugs["2100-01-01 20:00:00 to 2100-01-02 20:00:00"] == "Furosemide; heparin")
        let order = Self.all(Self.template(.whichFirst, question: "{a} or {b} in {admission}?"))
        #expect(order.values.contains("Sodium (first at 2100-01-01 08:00:00)"))
        #expect(order.count == 2, "Sodium and Potassium share a first time: only the pairs with Creatinine are asked")
        #expect(Self.all(Self.template(.admissionItems, event: "diagnoses_icd", item: "long_title", question: "{admission}"))
            == ["h1": "Anemia; Sepsis"])
    }

    @Test func theChoiceIsSeededByPatientAndTemplate() {
        let template = Self.template(.valueAtTime, question: "{item} at {time}?")
        var generator = TemplateQA(templates: [template])
        generator.perTemplate = 2
        let first = generator.pairs(for: Self.patient)
        #expect(first.count == 2 && first == generator.pairs(for: Self.patient))
        #expect(first.map(\.id) == ["p1:value_at_time:0", "p1:value_at_time:1"])
        generator.seed = 7
        let other = (1...20).map { seed -> [String] in
            generator.seed = UInt64(seed)
            return generator.pairs(for: Self.patient).map(\.question)
        }
        #expect(Set(other).count > 1, "other seeds choose other events")
    }

    @Test func flagsReadAsMIMICAndFHIRWriteThem() {
        let template = Self.template(.abnormalValues, question: "{item}")
        #expect(template.isAbnormal("abnormal") && template.isAbnormal("High") && template.isAbnormal("Critical low"))
        #expect(!template.isAbnormal("Normal") && !template.isAbnormal("N") && !template.isAbnormal(nil) && !template.isAbnormal(""))
    }

    @Test func theShippedTemplatesLoad() throws {
        let set = try QATemplateSet.load(nil)
        #expect(set.templates.count == 8 && Set(set.templates.map(\.kind)).count == 8)
    }
}

/// A generator for candidates that draw (which-first's order).
enum SplitMix64Wrapper {
    static func make() -> SplitMix64 { SplitMix64(seed: 1) }
}
