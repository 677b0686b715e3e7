import Foundation
import TGSupport

/// What an import read and wrote.
public struct ImportSummary: Sendable {
    public var files = 0
    public var rows = 0
    public var patients = 0
    public var events = 0
    public var rejected = 0
    public var rejectedByKind: [String: Int] = [:]
    /// Rows or resources per table / resource type.
    public var rowsByKind: [String: Int] = [:]
    /// Resource types with nothing for a timeline, counted.
    public var skippedByKind: [String: Int] = [:]
    /// Patients with events but no patient row or resource.
    public var patientsWithoutRecord = 0
    /// What the user should know about the output though nothing was
    /// rejected (printed once each, and kept in run.json).
    public var warnings: [String] = []

    public init() {}

    /// Takes the rejects' counts from the log that recorded them (the one
    /// place they are counted).
    public mutating func countRejects(_ log: RejectLog) {
        rejected = log.count
        rejectedByKind = log.countsByReason
    }

    public var json: JSONValue {
        func counts(_ values: [String: Int]) -> JSONValue {
            .object(values.keys.sorted().map { ($0, .integer(Int64(values[$0]!))) })
        }
        return .object([
            ("files", .integer(Int64(files))), ("rows", .integer(Int64(rows))),
            ("patients", .integer(Int64(patients))), ("events", .integer(Int64(events))),
            ("rejected", .integer(Int64(rejected))), ("rejected_by_kind", counts(rejectedByKind)),
            ("rows_by_kind", counts(rowsByKind)), ("skipped_by_kind", counts(skippedByKind)),
            ("patients_without_record", .integer(Int64(patientsWithoutRecord))),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }
}

/// Imports a FHIR R4 bulk export (one NDJSON file per resource type, as
/// `$export` writes it, optionally gzipped) into a timeline file.
///
/// Streaming: resources are mapped line by line and their fragments
/// partitioned on disk by patient (see `PatientPartitioner`); memory holds
/// one partition at a time.
public struct FHIRImporter {
    public var mapper = FHIRMapper()
    /// Where partitions go (default: beside the output).
    public var scratch: String?
    /// CCS / ATC categories added to coded records (`CodeMaps`).
    public var codeMaps: CodeMaps?

    public init() {}

    /// The NDJSON files of an export folder, by name.
    public static func inputFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: directory, message: "not a folder (expected a FHIR bulk export folder of .ndjson files)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0.hasSuffix(".ndjson") || $0.hasSuffix(".ndjson.gz")
        }.sorted()
        guard !names.isEmpty else { throw InputError(file: directory, message: "no .ndjson or .ndjson.gz files") }
        return names.map { directory + "/" + $0 }
    }

    public func run(directory: String, output: JSONLinesWriter, rejects: RejectLog,
                    progress: ((String) -> Void)? = nil) throws -> ImportSummary {
        let files = try Self.inputFiles(in: directory)
        // NDJSON compresses about 8 to 1.
        let partitioner = try PatientPartitioner.forImport(of: files, output: output.path, scratch: scratch, gzipRatio: 8)
        var summary = ImportSummary()
        var withRecord = Set<String>()
        for file in files {
            summary.files += 1
            let name = (file as NSString).lastPathComponent
            // Inline attachments make long lines: allow 256 MB, so an
            // oversized note is rejected by the mapper with its resource id.
            let reader = try LineReader(path: file, maximumLineLength: 256 << 20)
            while let bytes = try reader.nextLine() {
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                summary.rows += 1
                let resource: JSONValue
                do {
                    resource = try JSONValue.parse(bytes)
                } catch let error as JSONSyntaxError {
                    try rejects.reject(InputError(file: file, line: reader.lineNumber, message: error.description), kind: "bad JSON")
                    continue
                }
                let type = resource["resourceType"]?.stringValue ?? "?"
                let mapped: FHIRMapper.Output
                do {
                    mapped = try mapper.map(resource)
                } catch {
                    let location = resource["id"]?.stringValue.map { "\(type)/\($0)" }
                    let field = [location, error.field].compactMap { $0 }.joined(separator: ".")
                    try rejects.reject(InputError(file: file, line: reader.lineNumber, field: field.isEmpty ? nil : field,
                                                  message: error.message), kind: error.kind)
                    continue
                }
                switch mapped {
                case .statics(let patient, let items):
                    summary.rowsByKind[type, default: 0] += 1
                    withRecord.insert(patient)
                    try partitioner.add(patient: patient, statics: items, source: "\(name):\(reader.lineNumber)")
                case .events(let patient, let events):
                    summary.rowsByKind[type, default: 0] += 1
                    for var event in events {
                        codeMaps?.annotate(&event)
                        try partitioner.add(patient: patient, event: event)
                    }
                case .skipped(let type):
                    summary.skippedByKind[type, default: 0] += 1
                }
            }
            progress?("\(name): \(reader.lineNumber) lines")
        }
        try partitioner.forEachPatient({ patient in
            guard !patient.events.isEmpty || !patient.statics.isEmpty else { return }
            if !withRecord.contains(patient.id) {
                summary.patientsWithoutRecord += 1
                // Strict: data for a patient the export does not have is refused.
                if rejects.mode == .strict {
                    try rejects.reject(InputError(file: directory, field: "Patient/\(patient.id)",
                                                  message: "resources refer to this patient, but no Patient resource has its id"),
                                       kind: "unknown patient")
                }
            }
            try output.write(patient)
            summary.patients += 1
            summary.events += patient.events.count
        }, conflict: { conflict in
            try rejects.reject(InputError(file: directory, field: conflict.source,
                                          message: "patient \(conflict.patient): \(conflict.message)"), kind: "duplicate")
        })
        summary.countRejects(rejects)
        return summary
    }
}
