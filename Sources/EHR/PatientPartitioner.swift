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
    /// Partitions are written as gzip members (a compact run: the scratch
    /// space of a MIMIC-IV-sized import would be ten times the input).
    public let compressed: Bool
    /// Fragments not yet compressed, by partition.
    private var pending: [[UInt8]]
    /// Uncompressed bytes per member (times the partitions: the memory held).
    static let memberSize = 1 << 17

    /// Partition files (see `FragmentCodec`) live in a fresh temporary folder inside `scratch`,
    /// removed when the partitioner goes (each as soon as its patients are out).
    public init(scratch: String, partitions: Int, compressed: Bool = false) throws {
        self.partitions = max(1, min(partitions, 512))
        self.compressed = compressed
        pending = Array(repeating: [], count: compressed ? max(1, min(partitions, 512)) : 0)
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
        return try PatientPartitioner(scratch: scratch ?? outputFolder, partitions: partitionCount(inputBytes: inputBytes),
                                      compressed: output.hasSuffix(".gz"))
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
        guard compressed else { return try write(encoder.bytes, to: index) }
        pending[index].append(contentsOf: encoder.bytes)
        if pending[index].count >= Self.memberSize { try flush(index) }
    }

    private func write(_ bytes: [UInt8], to index: Int) throws {
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, files[index]) }
        guard written == bytes.count else {
            throw InputError(file: path(index), message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a partition's pending fragments as one gzip member.
    private func flush(_ index: Int) throws {
        guard compressed, !pending[index].isEmpty else { return }
        var member: [UInt8] = []
        try pending[index].withUnsafeBytes { try GzipBlocks.member($0, into: &member) }
        pending[index].removeAll(keepingCapacity: false)
        try write(member, to: index)
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
        for index in 0..<partitions where files[index] != nil { try flush(index) }
        for file in files { if let file { fclose(file) } }
        files = Array(repeating: nil, count: partitions)
        for index in 0..<partitions {
            guard access(path(index), F_OK) == 0 else { continue }
            var patients: [String: Patient] = [:]
            var sources: [String: Set<String>] = [:]
            var staticSources: [String: String] = [:]
            let contents = compressed ? try Self.inflateWhole(path(index)) : try Self.readWhole(path(index))
            // Its patients are in memory now: the scratch space shrinks as the timelines grow.
            unlink(path(index))
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

    static func inflateWhole(_ path: String) throws -> [UInt8] {
        var contents: [UInt8] = []
        let torn = try GzipBlocks.forEachMember(in: path) { _, _, bytes in contents.append(contentsOf: bytes) }
        guard torn == nil else { throw InputError(file: path, message: "corrupted partition file (was it changed during the import?)") }
        return contents
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
