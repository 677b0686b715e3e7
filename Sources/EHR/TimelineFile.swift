#if canImport(Glibc)
import Glibc
#endif
import TGSupport

/// Reads a timeline JSONL file (one patient per line), with every problem
/// located by file, line and field.
public final class TimelineReader {
    public let path: String
    private let reader: LineReader

    /// Whether events must already be in time order (the format's rule);
    /// importers of foreign files turn it off and sort.
    public var requireTimeOrder = true

    public init(path: String) throws {
        self.path = path
        reader = try LineReader(path: path)
    }

    public var lineNumber: Int { reader.lineNumber }

    /// The next patient; throws the line's first problem. Blank lines are
    /// skipped.
    public func next() throws -> Patient? {
        while let bytes = try reader.nextLine() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            var problems: [TimelineProblem] = []
            if let patient = try decode(bytes, problems: &problems) { return patient }
            let first = problems[0]
            throw InputError(file: path, line: reader.lineNumber, field: first.field.isEmpty ? nil : first.field,
                             message: first.message)
        }
        return nil
    }

    /// Checks every line and returns every problem, including patient ids
    /// used twice; reads the whole file.
    public func validate() throws -> (patients: Int, events: Int, problems: [InputError]) {
        var problems: [InputError] = []
        var seen: [String: Int] = [:]
        var patients = 0, events = 0
        while let bytes = try reader.nextLine() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            var found: [TimelineProblem] = []
            let line = reader.lineNumber
            if let patient = try decode(bytes, problems: &found) {
                patients += 1
                events += patient.events.count
                if let first = seen[patient.id] {
                    found.append(TimelineProblem(field: "patient", message: "duplicate id \"\(patient.id)\" (first on line \(first))"))
                } else {
                    seen[patient.id] = line
                }
            }
            problems += found.map { InputError(file: path, line: line, field: $0.field.isEmpty ? nil : $0.field, message: $0.message) }
        }
        return (patients, events, problems)
    }

    private func decode(_ bytes: UnsafeBufferPointer<UInt8>, problems: inout [TimelineProblem]) throws -> Patient? {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch let error as JSONSyntaxError {
            problems.append(TimelineProblem(field: "", message: error.description))
            return nil
        }
        return Patient.decode(value, requireTimeOrder: requireTimeOrder, problems: &problems)
    }
}

extension JSONLinesWriter {
    /// Writes one patient as a timeline line.
    public func write(_ patient: Patient) throws {
        try writeLine(patient.json)
    }
}
