import EHR
import Foundation
import Runtime
import TGSupport

/// Which mentions count in a patient's history: negated and family-history
/// mentions are left out unless kept. Our rule: EHR-R1 keeps every mention
/// QuickUMLS finds (docs/DIFFERENCES.md).
public struct HistoryRule: Equatable, Sendable {
    public var keepNegated = false
    public var keepFamily = false

    public init(keepNegated: Bool = false, keepFamily: Bool = false) {
        self.keepNegated = keepNegated
        self.keepFamily = keepFamily
    }

    public func admits(_ concept: LinkedConcept) -> Bool {
        !(concept.context.negated && !keepNegated) && !(concept.context.family && !keepFamily)
    }
}

/// One record of `extract.jsonl` read back: event index → its concepts.
public enum PatientConcepts {
    /// Decodes the record strictly (`ExtractRecord`): a malformed concept
    /// is an error naming the file and field, never skipped.
    public static func byEvent(_ value: JSONValue, file: String) throws -> [Int: [LinkedConcept]] {
        let record = try ExtractRecord(json: value, file: file, line: nil)
        var result: [Int: [LinkedConcept]] = [:]
        for (eventIndex, event) in record.events.enumerated() {
            for (conceptIndex, concept) in event.concepts.enumerated() {
                result[event.event, default: []].append(
                    try LinkedConcept(concept, file: file, field: "events[\(eventIndex)].concepts[\(conceptIndex)].link"))
            }
        }
        return result
    }
}

/// Which concepts of a target event stand for a sample's target items.
public enum TargetConcepts {
    /// The record keys extract must link for a task's targets (none for
    /// `event`; free text is always matched, which covers `text`).
    public static func linkedFields(of task: TaskDefinition) -> [String] {
        switch task.targetKey {
        case "event", "text": return []
        default: return [task.targetKey] + (task.fallbackKey.map { [$0] } ?? [])
        }
    }

    /// Whether a concept found in the target event, in `field` from the
    /// value `surface`, is one of the sample's `targets`: a value of the
    /// target key (or of the fallback key, where that is what the target
    /// item is), or, for `text` tasks, a mention in the event's text.
    public static func admits(field: String, surface: String, task: TaskDefinition, targets: Set<String>) -> Bool {
        switch task.targetKey {
        case "event": return false
        case "text": return field == "text"
        default:
            guard field == task.targetKey || field == task.fallbackKey else { return false }
            return targets.contains(surface.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
