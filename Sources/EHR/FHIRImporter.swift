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

/// Imports FHIR R4 data into a timeline file: a bulk export (one NDJSON
/// file per resource type, as `$export` writes it, optionally gzipped),
/// Bundle files (`.json`, `.json.gz`: Synthea's one per patient, a
/// server's search pages), or both in one folder.
///
/// Streaming: resources are mapped one at a time and their fragments
/// partitioned on disk by patient (see `PatientPartitioner`); memory holds
/// one partition, or one bundle file, at a time.
public struct FHIRImporter {
    public var mapper = FHIRMapper()
    /// Where partitions go (default: beside the output).
    public var scratch: String?
    /// CCS / ATC categories added to coded records (`CodeMaps`).
    public var codeMaps: CodeMaps?

    public init() {}

    static func isBulkFile(_ name: String) -> Bool { name.hasSuffix(".ndjson") || name.hasSuffix(".ndjson.gz") }
    static func isBundleFile(_ name: String) -> Bool { name.hasSuffix(".json") || name.hasSuffix(".json.gz") }

    /// The input files of `path`: a folder's NDJSON and Bundle files by
    /// name, or the one file named.
    public static func inputFiles(in path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, message: "no such file or folder")
        }
        guard isDirectory.boolValue else {
            let name = (path as NSString).lastPathComponent
            guard isBulkFile(name) || isBundleFile(name) else {
                throw InputError(file: path, message: "not a FHIR input (expected a folder, an .ndjson file or a Bundle .json file)")
            }
            return [path]
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { isBulkFile($0) || isBundleFile($0) }.sorted()
        guard !names.isEmpty else {
            throw InputError(file: path, message: "no .ndjson, .ndjson.gz, .json or .json.gz files (a FHIR bulk export or Bundle files)")
        }
        return names.map { path + "/" + $0 }
    }

    public func run(directory: String, output: JSONLinesWriter, rejects: RejectLog,
                    progress: ((String) -> Void)? = nil) throws -> ImportSummary {
        let files = try Self.inputFiles(in: directory)
        // NDJSON compresses about 8 to 1.
        let partitioner = try PatientPartitioner.forImport(of: files, output: output.path, scratch: scratch, gzipRatio: 8)
        var summary = ImportSummary()
        var withRecord = Set<String>()
        let hasBulkFiles = files.contains { Self.isBulkFile(($0 as NSString).lastPathComponent) }

        /// Maps one resource; `line` or `entry` names where it is in `file`
        /// (an NDJSON line, a bundle's `entry[i]`), `source` names it in the
        /// timeline's provenance.
        func take(_ resource: Result<JSONValue, FHIRMappingError>, type: String, id: String?, file: String,
                  line: Int?, entry: String?, source: String) throws {
            let mapped: FHIRMapper.Output
            do {
                mapped = try mapper.map(try resource.get())
            } catch {
                let location = id.map { "\(type)/\($0)" }
                // "Condition/c1.subject.reference", in a bundle after its entry.
                let path = [location, error.field].compactMap { $0 }.joined(separator: ".")
                let field = [entry, path.isEmpty ? nil : path].compactMap { $0 }.joined(separator: " ")
                try rejects.reject(InputError(file: file, line: line, field: field.isEmpty ? nil : field,
                                              message: error.message), kind: error.kind)
                return
            }
            switch mapped {
            case .statics(let patient, let items):
                summary.rowsByKind[type, default: 0] += 1
                withRecord.insert(patient)
                try partitioner.add(patient: patient, statics: items, source: source)
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

        for file in files {
            summary.files += 1
            let name = (file as NSString).lastPathComponent
            if Self.isBundleFile(name) {
                let bundle: FHIRBundle
                do {
                    bundle = try FHIRBundle(file: file)
                } catch let notFHIR as FHIRBundle.NotFHIR {
                    // A bulk export's manifest.json (and a generator's
                    // metadata) sit beside its NDJSON files: not data.
                    if hasBulkFiles {
                        summary.skippedByKind["JSON file that is not FHIR (\(name))", default: 0] += 1
                        continue
                    }
                    try rejects.reject(notFHIR.error, kind: "not a bundle")
                    continue
                } catch let error as InputError {
                    try rejects.reject(error, kind: "not a bundle")
                    continue
                }
                for entry in bundle.entries {
                    summary.rows += 1
                    try take(entry.resource, type: entry.type, id: entry.id, file: file, line: nil,
                             entry: entry.path, source: "\(name):\(entry.path)")
                }
                progress?("\(name): \(bundle.entries.count) resources (\(bundle.type) bundle)")
                continue
            }
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
                try take(.success(resource), type: resource["resourceType"]?.stringValue ?? "?", id: resource["id"]?.stringValue,
                         file: file, line: reader.lineNumber, entry: nil, source: "\(name):\(reader.lineNumber)")
            }
            progress?("\(name): \(reader.lineNumber) lines")
        }
        // Strict: data for a patient the export does not have is refused.
        try partitioner.writePatients(to: output, summary: &summary, withRecord: withRecord, rejects: rejects, file: directory) { id in
            InputError(file: directory, field: "Patient/\(id)", message: "resources refer to this patient, but no Patient resource has its id")
        }
        return summary
    }
}
