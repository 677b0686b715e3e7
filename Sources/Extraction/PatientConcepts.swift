import TGSupport

/// Which mentions count in a patient's history: negated and family-history
/// mentions are left out unless kept (REFERENCE §1, stage 2).
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
    /// Throws naming the file for a malformed concept, never skips one.
    public static func byEvent(_ record: JSONValue, file: String) throws -> [Int: [LinkedConcept]] {
        var result: [Int: [LinkedConcept]] = [:]
        for event in record["events"]?.arrayValue ?? [] {
            guard case .integer(let index)? = event["event"] else {
                throw InputError(file: file, field: "event", message: "missing or not an integer")
            }
            for value in event["concepts"]?.arrayValue ?? [] {
                do {
                    result[Int(index), default: []].append(try LinkedConcept(json: value))
                } catch {
                    throw InputError(file: file, field: "concept", message: error.message)
                }
            }
        }
        return result
    }
}
