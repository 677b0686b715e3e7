#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TGSupport

/// Groups events by patient on disk, so an import needs memory for one
/// partition, never for a whole table.
///
/// Sources are organised by table (MIMIC's CSVs) or by resource type
/// (FHIR's NDJSON files), not by patient. Each fragment (a patient's static
/// facts or one event) is appended, in a compact binary form, to one of `partitions`
/// files chosen by a hash of the patient id; afterwards each partition is
/// read back alone, grouped by patient, sorted in time and handed out. With
/// the partition count scaled to the input size, a partition holds a few
/// tens of megabytes however large the input.
public final class PatientPartitioner {
    public let directory: String
    public let partitions: Int
    private var files: [UnsafeMutablePointer<FILE>?]
    private var encoder = FragmentEncoder()

    /// Partition files (see `FragmentCodec`) live in a fresh temporary folder inside `scratch`,
    /// removed when the partitioner goes.
    public init(scratch: String, partitions: Int) throws {
        self.partitions = max(1, min(partitions, 512))
        Debris.sweep(scratch)
        var template = Array("\(scratch)/.thinkgraph-partitions-\(Debris.tag)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw InputError(file: scratch, message: "cannot create a scratch folder: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        files = Array(repeating: nil, count: self.partitions)
    }

    deinit {
        for file in files { if let file { fclose(file) } }
        for index in 0..<partitions { unlink(path(index)) }
        rmdir(directory)
    }

    /// A partitioner for an import of `files` into `output`: partitions in
    /// `scratch` (default: beside the output), as many as keep each near
    /// 4 MB of the input once decompressed (a `.gz` file counted
    /// `gzipRatio` times its size: the importers' one size guess).
    public static func forImport(of files: [String], output: String, scratch: String?, gzipRatio: UInt64) throws -> PatientPartitioner {
        let inputBytes = files.reduce(UInt64(0)) {
            let size = (try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? UInt64) ?? 0
            return $0 + ($1.hasSuffix(".gz") ? size * gzipRatio : size)
        }
        let outputFolder = output.contains("/") ? String(output[..<output.lastIndex(of: "/")!]) : "."
        return try PatientPartitioner(scratch: scratch ?? outputFolder, partitions: partitionCount(inputBytes: inputBytes))
    }

    /// A partition count that keeps each partition near `target` bytes.
    public static func partitionCount(inputBytes: UInt64, target: UInt64 = 4 << 20) -> Int {
        Int(min(512, max(1, inputBytes / target + 1)))
    }

    private func path(_ index: Int) -> String { "\(directory)/\(index).fragments" }

    /// `StableHash`: the same partition on every run and platform (Swift's `Hasher` is
    /// seeded per process).
    static func partition(of patient: String, count: Int) -> Int {
        Int(StableHash.of(patient) % UInt64(count))
    }

    public func add(patient: String, event: Event) throws {
        encoder.reset()
        encoder.event(patient: patient, event)
        try append(patient: patient)
    }

    public func add(patient: String, statics: [Item], source: String) throws {
        encoder.reset()
        encoder.statics(patient: patient, statics, source: source)
        try append(patient: patient)
    }

    private func append(patient: String) throws {
        let index = Self.partition(of: patient, count: partitions)
        if files[index] == nil {
            guard let file = fopen(path(index), "a") else {
                throw InputError(file: path(index), message: "cannot write: \(String(cString: strerror(errno)))")
            }
            files[index] = file
        }
        let written = encoder.bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, files[index]) }
        guard written == encoder.bytes.count else {
            throw InputError(file: path(index), message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// What went wrong with one patient's fragments (a resource seen twice,
    /// two sets of static facts); the patient is still handed out without
    /// the offending fragment.
    public struct Conflict: Sendable {
        public var patient: String
        public var source: String
        public var message: String
    }

    /// The last step of an import: every patient's timeline to `output`,
    /// counted into `summary`. A patient whose data names no record of its
    /// own (`withRecord` lacks it) is counted and, in strict mode, refused
    /// with `unknown(id)`; a second record of one patient is a duplicate
    /// named in `file`.
    public func writePatients(to output: JSONLinesWriter, summary: inout ImportSummary, withRecord: Set<String>,
                              rejects: RejectLog, file: String, unknown: (String) -> InputError) throws {
        var counted = summary
        try forEachPatient({ patient in
            guard !patient.events.isEmpty || !patient.statics.isEmpty else { return }
            if !withRecord.contains(patient.id) {
                counted.patientsWithoutRecord += 1
                if rejects.mode == .strict { try rejects.reject(unknown(patient.id), kind: "unknown patient") }
            }
            try output.write(patient)
            counted.patients += 1
            counted.events += patient.events.count
        }, conflict: { conflict in
            try rejects.reject(InputError(file: file, field: conflict.source,
                                          message: "patient \(conflict.patient): \(conflict.message)"), kind: "duplicate")
        })
        counted.countRejects(rejects)
        summary = counted
    }

    /// Hands out every patient, partition by partition, patients ordered by
    /// id within a partition, events in time order (ties in arrival order).
    /// Events of the same name, time and admission without text are merged
    /// into one event with several records (a lab panel). A source seen
    /// twice for one patient (a duplicated resource or row) is reported to
    /// `conflict` and kept once.
    public func forEachPatient(_ body: (Patient) throws -> Void, conflict: (Conflict) throws -> Void) throws {
        for file in files { if let file { fclose(file) } }
        files = Array(repeating: nil, count: partitions)
        for index in 0..<partitions {
            guard access(path(index), F_OK) == 0 else { continue }
            var patients: [String: Patient] = [:]
            var sources: [String: Set<String>] = [:]
            var staticSources: [String: String] = [:]
            let contents = try Self.readWhole(path(index))
            try contents.withUnsafeBufferPointer { buffer in
                var decoder = FragmentDecoder(buffer)
                while true {
                    let fragment: FragmentDecoder.Fragment?
                    do {
                        fragment = try decoder.next()
                    } catch {
                        throw InputError(file: path(index), message: "corrupted partition file (was it changed during the import?)")
                    }
                    guard let fragment else { break }
                    switch fragment {
                    case .statics(let id, let items, let source):
                        if let first = staticSources[id] {
                            try conflict(Conflict(patient: id, source: source,
                                                  message: "second patient record for the same id (first: \(first))"))
                        } else {
                            staticSources[id] = source
                            patients[id, default: Patient(id: id)].statics = items
                        }
                    case .event(let id, let event):
                        let source = event.source ?? event.records.first?.source
                        if let source, !sources[id, default: []].insert(source + "#" + event.name).inserted {
                            let row = event.records.first?.source.map { " (again at \($0))" } ?? ""
                            try conflict(Conflict(patient: id, source: source, message: "duplicate resource or row\(row)"))
                            continue
                        }
                        // Updated in place: copying a patient out and back
                        // would copy its events on every fragment.
                        patients[id, default: Patient(id: id)].events.append(event)
                    }
                }
            }
            for id in patients.keys.sorted() {
                var patient = patients.removeValue(forKey: id)!
                patient.sortEvents()
                patient.events = Self.mergeSimultaneous(patient.events)
                try body(patient)
            }
        }
    }

    static func readWhole(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "r") else {
            throw InputError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBufferPointer { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        guard ferror(file) == 0 else { throw InputError(file: path, message: "read failed") }
        return contents
    }

    /// Merges adjacent text-less events with the same name, time and
    /// admission into one event with all their records.
    static func mergeSimultaneous(_ events: [Event]) -> [Event] {
        var merged: [Event] = []
        var open: [String: Int] = [:]
        var openTime: Timestamp?
        for event in events {
            if event.time != openTime {
                open.removeAll(keepingCapacity: true)
                openTime = event.time
            }
            guard event.text == nil else {
                merged.append(event)
                continue
            }
            let key = event.name + "\u{1}" + (event.admission ?? "")
            if let position = open[key] {
                merged[position].records += event.records
                if merged[position].source != event.source { merged[position].source = nil }
            } else {
                open[key] = merged.count
                merged.append(event)
            }
        }
        return merged
    }
}
