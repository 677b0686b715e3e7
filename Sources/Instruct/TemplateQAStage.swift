import EHR
import Foundation
import Runtime
import TGSupport

/// `instruct templates`: every patient's template questions, written to
/// `RUN/instruct-templates.jsonl` (all or nothing) with counts per
/// template. Patients keep the split their samples have (the samples
/// stage's seed and test fraction), so a test patient's questions never
/// train a model evaluated on its samples.
public struct TemplateQAStage: Sendable {
    public var generator: TemplateQA
    public var splits: SampleBuilder
    public var split = SplitSelection.train

    public init(generator: TemplateQA, splits: SampleBuilder) {
        self.generator = generator
        self.splits = splits
    }

    public struct Summary: Sendable {
        public var patients = 0
        public var patientsLeftOut = 0
        public var pairs = 0
        /// Pairs by template, and patients without a question of it.
        public var byTemplate: [String: Int] = [:]
        public var patientsWithout: [String: Int] = [:]
        /// Templates whose event no patient has (counted, not an error: a
        /// run without prescriptions).
        public var eventsMissing: [String] = []

        public var json: JSONValue {
            .object([("patients", .integer(Int64(patients))), ("patients_left_out", .integer(Int64(patientsLeftOut))),
                     ("pairs", .integer(Int64(pairs))),
                     ("by_template", .object(byTemplate.keys.sorted().map { ($0, .integer(Int64(byTemplate[$0]!))) })),
                     ("patients_without", .object(patientsWithout.keys.sorted().map { ($0, .integer(Int64(patientsWithout[$0]!))) })),
                     ("events_missing", .array(eventsMissing.map { .string($0) }))])
        }
    }

    /// Reads the timelines at `patients`, writes `output`. A template
    /// field that no event of its name carries is an error (a misspelt
    /// field), found before anything is written.
    public func run(patients: String, output: String, templatesFile: String) throws -> Summary {
        let reader = try TimelineReader(path: patients)
        let writer = try JSONLinesWriter(path: output)
        var summary = Summary()
        var eventSeen = Set<String>()
        // Fields not seen yet, by template: a patient is looked at only until every field was.
        var fieldsPending = Dictionary(uniqueKeysWithValues: generator.templates.map { ($0.name, Set($0.fields)) })
        for template in generator.templates { summary.byTemplate[template.name] = 0 }
        while let patient = try reader.next() {
            for template in generator.templates where !fieldsPending[template.name]!.isEmpty || !eventSeen.contains(template.name) {
                if patient.events.contains(where: { $0.name == template.event }) { eventSeen.insert(template.name) }
                fieldsPending[template.name]!.subtract(TemplateQA.fieldsSeen(fieldsPending[template.name]!, of: template.event, in: patient))
            }
            let side = splits.split(of: patient.id)
            guard split.admits(side) else {
                summary.patientsLeftOut += 1
                continue
            }
            summary.patients += 1
            let pairs = generator.pairs(for: patient)
            for pair in pairs {
                try writer.writeLine(pair.json(split: side))
                summary.byTemplate[pair.template, default: 0] += 1
            }
            summary.pairs += pairs.count
            let made = Set(pairs.map(\.template))
            for template in generator.templates where !made.contains(template.name) { summary.patientsWithout[template.name, default: 0] += 1 }
        }
        for (index, template) in generator.templates.enumerated() {
            guard eventSeen.contains(template.name) else {
                summary.eventsMissing.append(template.name)
                continue
            }
            let missing = template.fields.filter { fieldsPending[template.name]!.contains($0) }
            guard missing.isEmpty else {
                throw InputError(file: templatesFile, field: "templates[\(index)]",
                                 message: "template \"\(template.name)\": no \(template.event) event of \(patients) has the field "
                                 + missing.map { "\"\($0)\"" }.joined(separator: ", ") + " (a misspelt field?)")
            }
        }
        try writer.commit()
        return summary
    }
}
