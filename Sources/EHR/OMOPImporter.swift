import Foundation
import TGSupport

/// Imports an OMOP CDM v5.3 / v5.4 export (one CSV per table, comma- or
/// tab-separated, optionally gzipped, column names in either case) into a
/// timeline file: `person` (required) and `death` as static facts, visits
/// as admissions, the clinical tables as events (`OMOPTable`), notes as text.
///
/// Concept ids are resolved through `concept` when the folder has it: the
/// row is named by its standard concept (else its source concept, else its
/// source value) and keeps the concept's code as CLMBR writes it
/// (`omop_code`: `SNOMED/44054006`) and as `code` + `code_system` (plus
/// `icd_code`, `rxnorm`, `loinc` where the vocabulary is one), so
/// extraction links it by code. An id that `concept` lacks is a bad row
/// (strict: an error naming file, line and column). Without `concept`,
/// rows are named by their source values and keep `OMOP/<id>` codes.
///
/// Streaming as the other importers: rows are partitioned on disk by
/// person; only the concepts and one person's events are in memory.
public struct OMOPImporter {
    public var maximumTextBytes = 4 << 20
    public var scratch: String?
    /// CCS / ATC categories added to coded records (`CodeMaps`).
    public var codeMaps: CodeMaps?

    public init() {}

    /// A table's file in `folder`: `name.csv[.gz]` or `name.tsv[.gz]`, in
    /// any case (Athena writes `CONCEPT.csv`).
    static func tableFile(_ name: String, in listing: [String], folder: String) -> String? {
        for suffix in [".csv", ".csv.gz", ".tsv", ".tsv.gz"] {
            if let found = listing.first(where: { $0.lowercased() == name + suffix }) { return folder + "/" + found }
        }
        return nil
    }

    public func run(folder: String, output: JSONLinesWriter, rejects: RejectLog,
                    progress: ((String) -> Void)? = nil) throws -> ImportSummary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: folder, message: "not a folder (expected an OMOP CDM export: person.csv, condition_occurrence.csv ...)")
        }
        let listing = try FileManager.default.contentsOfDirectory(atPath: folder)
        guard let personFile = Self.tableFile("person", in: listing, folder: folder) else {
            throw InputError(file: folder, message: "no person.csv, person.csv.gz or person.tsv (required)")
        }
        let files = OMOPTable.fileNames.compactMap { Self.tableFile($0, in: listing, folder: folder) }
        let partitioner = try PatientPartitioner.forImport(of: files, output: output.path, scratch: scratch, gzipRatio: 6)
        var state = State(rejects: rejects, maximumTextBytes: maximumTextBytes, codeMaps: codeMaps)
        if let conceptFile = Self.tableFile("concept", in: listing, folder: folder) {
            state.concepts = try OMOPConcepts(file: conceptFile, rejects: rejects)
            state.summary.files += 1
            progress?("concept: \(state.concepts!.count) concepts")
        } else {
            state.summary.warnings.append("no concept.csv: rows are named by their source values and keep OMOP/<id> codes, "
                + "so extraction cannot link them by code")
        }
        // Deaths first: they are static facts of the person row (a
        // patient has one record of static facts).
        if let deathFile = Self.tableFile("death", in: listing, folder: folder) {
            try state.readDeaths(deathFile)
        }
        try state.importPersons(personFile, partitioner)
        progress?("person: \(state.summary.rowsByKind["person", default: 0]) rows")
        for (person, death) in state.deaths.sorted(by: { $0.value.line < $1.value.line }) {
            try rejects.reject(InputError(file: death.file, line: death.line, field: "person_id",
                                          message: "person \(person) is not in person"), kind: "unknown patient")
        }
        if let visitFile = Self.tableFile("visit_occurrence", in: listing, folder: folder) {
            try state.importVisits(visitFile, partitioner)
            progress?("visit_occurrence: \(state.summary.rowsByKind["visit_occurrence", default: 0]) rows")
        }
        for table in OMOPTable.clinical {
            guard let file = Self.tableFile(table.file, in: listing, folder: folder) else { continue }
            try state.importTable(table, file: file, partitioner)
            progress?("\(table.file): \(state.summary.rowsByKind[table.file, default: 0]) rows")
        }
        if let noteFile = Self.tableFile("note", in: listing, folder: folder) {
            try state.importNotes(noteFile, partitioner)
            progress?("note: \(state.summary.rowsByKind["note", default: 0]) rows")
        }
        var summary = state.summary
        try partitioner.writePatients(to: output, summary: &summary, withRecord: state.withRecord, rejects: rejects, file: personFile) { id in
            InputError(file: personFile, field: "person_id", message: "rows of other tables name person \(id), which person lacks")
        }
        return summary
    }

    /// A row that cannot be imported: the column, why, and the reject kind.
    struct RowProblem: Error {
        var field: String
        var message: String
        var kind: String
    }

    /// The import's running state: counts, concepts, persons seen.
    struct State {
        let rejects: RejectLog
        let maximumTextBytes: Int
        let codeMaps: CodeMaps?
        var concepts: OMOPConcepts?
        var summary = ImportSummary()
        var withRecord = Set<String>()
        /// Death facts by person, until the person row takes them.
        var deaths: [String: (items: [Item], file: String, line: Int)] = [:]

        init(rejects: RejectLog, maximumTextBytes: Int, codeMaps: CodeMaps?) {
            self.rejects = rejects
            self.maximumTextBytes = maximumTextBytes
            self.codeMaps = codeMaps
        }

        // MARK: Reading rows

        /// Opens a table and finds its columns: `required` must exist,
        /// `optional` may (nil where absent).
        func open(_ file: String, required: [String], optional: [String] = []) throws -> (CSVReader, [String: Int]) {
            let csv = try CSVReader(path: file, detectTabs: true)
            csv.lowercaseHeader()
            var positions: [String: Int] = [:]
            for (name, index) in zip(required, try csv.columns(required)) { positions[name] = index }
            for name in optional { positions[name] = csv.header.firstIndex(of: name) }
            return (csv, positions)
        }

        /// The next well-formed row; a malformed one is rejected and skipped.
        mutating func nextRow(_ csv: CSVReader) throws -> [String]? {
            while true {
                do {
                    guard let row = try csv.next() else { return nil }
                    summary.rows += 1
                    return row
                } catch let error as InputError where error.line != nil {
                    summary.rows += 1
                    try rejects.reject(error, kind: "bad row")
                }
            }
        }

        func reject(_ problem: RowProblem, file: String, line: Int) throws {
            try rejects.reject(InputError(file: file, line: line, field: problem.field, message: problem.message), kind: problem.kind)
        }

        /// The concept a `*_concept_id` value names: nil for empty or 0
        /// ("no matching concept"); with a concept table, an id it lacks is
        /// a problem; without one, the id itself.
        func concept(_ text: String, column: String) throws(RowProblem) -> OMOPConcept? {
            let text = text.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, text != "0" else { return nil }
            guard let id = Int64(text) else {
                throw RowProblem(field: column, message: "not a concept id: \"\(text)\"", kind: "bad value")
            }
            guard let concepts else { return OMOPConcept(name: "", vocabulary: "OMOP", code: text) }
            guard let concept = concepts[id] else {
                throw RowProblem(field: column, message: "concept \(id) is not in concept.csv", kind: "unknown concept")
            }
            return concept
        }

        /// A row's time: the first non-empty of `columns` (a `_datetime`
        /// before its `_date`).
        func time(_ row: [String], _ positions: [String: Int], _ columns: [String]) throws(RowProblem) -> Timestamp {
            for column in columns {
                guard let index = positions[column] ?? nil else { continue }
                let text = row[index].trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                guard let time = Timestamp(parsing: text) else {
                    throw RowProblem(field: column, message: "not a date or time: \"\(text)\"", kind: "bad time")
                }
                return time
            }
            throw RowProblem(field: columns.last!, message: "empty", kind: "no time")
        }

        func person(_ row: [String], _ positions: [String: Int]) throws(RowProblem) -> String {
            let id = row[positions["person_id"]!].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw RowProblem(field: "person_id", message: "empty", kind: "no subject") }
            return id
        }

        static func value(_ row: [String], _ positions: [String: Int], _ column: String) -> String? {
            guard let index = positions[column] ?? nil else { return nil }
            let text = row[index].trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        }

        /// The items naming a coded row: its name under `key`, then its codes.
        func coded(_ row: [String], _ positions: [String: Int], key: String, concept column: String,
                   sourceConcept: String?, sourceValue: String?) throws(RowProblem) -> ItemList {
            let standard = try concept(row[positions[column]!], column: column)
            let source = try sourceConcept.flatMap { name throws(RowProblem) in
                try Self.value(row, positions, name).flatMap { text throws(RowProblem) in try concept(text, column: name) }
            }
            let sourceText = sourceValue.flatMap { Self.value(row, positions, $0) }
            let named = [standard, source].compactMap { $0 }.first { !$0.name.isEmpty }
            guard let name = named?.name ?? sourceText ?? standard.map({ "OMOP/\($0.code)" }) else {
                throw RowProblem(field: column, message: "no concept and no source value: nothing names the row", kind: "no code")
            }
            var items = ItemList()
            items.add(key, name)
            let main = standard ?? source
            if let main {
                items.add("omop_code", main.clmbrCode)
                if main.vocabulary != "OMOP" {
                    items.add("code", main.code)
                    items.add("code_system", main.systemName)
                }
            }
            for coded in [standard, source].compactMap({ $0 }) {
                switch coded.vocabulary {
                case "ICD10CM", "ICD9CM":
                    if items.items.contains(where: { $0.key == "icd_code" }) { continue }
                    items.add("icd_code", coded.code)
                    items.add("icd_version", FieldValue.integer(coded.vocabulary == "ICD10CM" ? 10 : 9))
                case "RxNorm":
                    if !items.items.contains(where: { $0.key == "rxnorm" }) { items.add("rxnorm", coded.code) }
                case "LOINC":
                    if !items.items.contains(where: { $0.key == "loinc" }) { items.add("loinc", coded.code) }
                default: break
                }
            }
            if let sourceText, sourceText != name { items.add("source_value", sourceText) }
            return items
        }

        /// A concept column's value as its name (the code for units in UCUM).
        func conceptName(_ row: [String], _ positions: [String: Int], _ column: String) throws(RowProblem) -> String? {
            guard let text = Self.value(row, positions, column), let concept = try concept(text, column: column) else { return nil }
            if concept.vocabulary == "UCUM" { return concept.code }
            return concept.name.isEmpty ? concept.clmbrCode : concept.name
        }

        func typed(_ text: String, _ kind: OMOPTable.Kind, column: String) throws(RowProblem) -> FieldValue {
            switch kind {
            case .number:
                guard let number = Double(text), number.isFinite else {
                    throw RowProblem(field: column, message: "not a number: \"\(text)\"", kind: "bad value")
                }
                return .number(number)
            case .integer:
                if let integer = Int64(text) { return .integer(integer) }
                // Some exports write integers as 30.0.
                guard let number = Double(text), number == number.rounded(), number.magnitude < 1e15 else {
                    throw RowProblem(field: column, message: "not an integer: \"\(text)\"", kind: "bad value")
                }
                return .integer(Int64(number))
            case .text, .concept:
                return .string(text)
            }
        }

        // MARK: Tables

        mutating func importPersons(_ file: String, _ partitioner: PatientPartitioner) throws {
            let (csv, positions) = try open(file, required: ["person_id", "gender_concept_id", "year_of_birth"],
                                            optional: ["month_of_birth", "day_of_birth", "birth_datetime", "race_concept_id",
                                                       "ethnicity_concept_id", "gender_source_value", "race_source_value"])
            summary.files += 1
            while let row = try nextRow(csv) {
                do {
                    let id = try person(row, positions)
                    var items = ItemList()
                    items.add("gender", try conceptName(row, positions, "gender_concept_id") ?? Self.value(row, positions, "gender_source_value"))
                    let year = row[positions["year_of_birth"]!].trimmingCharacters(in: .whitespaces)
                    guard let yearNumber = Int(year), (1800...2200).contains(yearNumber) else {
                        throw RowProblem(field: "year_of_birth", message: "not a year: \"\(year)\"", kind: "bad value")
                    }
                    if let birth = Self.value(row, positions, "birth_datetime"), let time = Timestamp(parsing: birth) {
                        items.add("birth_date", String(time.description.prefix(10)))
                    } else if let month = Self.value(row, positions, "month_of_birth").flatMap({ Int($0) }),
                              let day = Self.value(row, positions, "day_of_birth").flatMap({ Int($0) }),
                              Timestamp(year: yearNumber, month: month, day: day) != nil {
                        items.add("birth_date", String(format: "%04d-%02d-%02d", yearNumber, month, day))
                    } else {
                        items.add("year_of_birth", FieldValue.integer(Int64(yearNumber)))
                    }
                    items.add("race", try conceptName(row, positions, "race_concept_id") ?? Self.value(row, positions, "race_source_value"))
                    items.add("ethnicity", try conceptName(row, positions, "ethnicity_concept_id"))
                    items.items += deaths.removeValue(forKey: id)?.items ?? []
                    summary.rowsByKind["person", default: 0] += 1
                    withRecord.insert(id)
                    try partitioner.add(patient: id, statics: items.items, source: "\(Self.name(file)):\(csv.recordLine)")
                } catch let problem as RowProblem {
                    try reject(problem, file: file, line: csv.recordLine)
                }
            }
        }

        /// Reads `death` into `deaths` (one row per person; a second is refused).
        mutating func readDeaths(_ file: String) throws {
            let (csv, positions) = try open(file, required: ["person_id", "death_date"], optional: ["death_datetime", "cause_concept_id"])
            summary.files += 1
            while let row = try nextRow(csv) {
                do {
                    let id = try person(row, positions)
                    let at = try time(row, positions, ["death_datetime", "death_date"])
                    if let first = deaths[id] {
                        throw RowProblem(field: "person_id", message: "a second death of person \(id) (first: line \(first.line))",
                                         kind: "duplicate")
                    }
                    var items = ItemList()
                    items.add("dod", String(at.description.prefix(10)))
                    items.add("cause_of_death", try conceptName(row, positions, "cause_concept_id"))
                    summary.rowsByKind["death", default: 0] += 1
                    deaths[id] = (items.items, file, csv.recordLine)
                } catch let problem as RowProblem {
                    try reject(problem, file: file, line: csv.recordLine)
                }
            }
        }

        mutating func importVisits(_ file: String, _ partitioner: PatientPartitioner) throws {
            let (csv, positions) = try open(
                file, required: ["visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date"],
                optional: ["visit_start_datetime", "visit_end_datetime", "visit_end_date", "visit_source_value",
                           "admitted_from_concept_id", "admitting_source_concept_id", "discharged_to_concept_id",
                           "discharge_to_concept_id"])
            summary.files += 1
            while let row = try nextRow(csv) {
                do {
                    let id = try person(row, positions)
                    let visit = row[positions["visit_occurrence_id"]!].trimmingCharacters(in: .whitespaces)
                    guard !visit.isEmpty else { throw RowProblem(field: "visit_occurrence_id", message: "empty", kind: "no id") }
                    let at = try time(row, positions, ["visit_start_datetime", "visit_start_date"])
                    var items = try coded(row, positions, key: "admission_type", concept: "visit_concept_id", sourceConcept: nil,
                                          sourceValue: "visit_source_value")
                    // v5.4 names first, then v5.3's.
                    items.add("admission_location", try conceptName(row, positions, "admitted_from_concept_id")
                        ?? conceptName(row, positions, "admitting_source_concept_id"))
                    items.add("discharge_location", try conceptName(row, positions, "discharged_to_concept_id")
                        ?? conceptName(row, positions, "discharge_to_concept_id"))
                    if let end = Self.value(row, positions, "visit_end_datetime") ?? Self.value(row, positions, "visit_end_date") {
                        guard let endTime = Timestamp(parsing: end) else {
                            throw RowProblem(field: "visit_end_date", message: "not a date or time: \"\(end)\"", kind: "bad time")
                        }
                        items.add("dischtime", endTime.description)
                    }
                    summary.rowsByKind["visit_occurrence", default: 0] += 1
                    try add(Event(name: "admissions", time: at, admission: visit,
                                  records: [Record(items: items.items, source: "\(Self.name(file)):\(csv.recordLine)")]),
                            patient: id, partitioner)
                } catch let problem as RowProblem {
                    try reject(problem, file: file, line: csv.recordLine)
                }
            }
        }

        mutating func importTable(_ table: OMOPTable, file: String, _ partitioner: PatientPartitioner) throws {
            var optional = Array(table.times.dropLast()) + ["visit_occurrence_id"] + table.columns.flatMap(\.names)
            optional += [table.sourceConcept, table.sourceValue].compactMap { $0 }
            if table.hasValue {
                optional += ["value_as_number", "value_as_concept_id", "value_as_string", "unit_concept_id", "unit_source_value",
                             "value_source_value", "operator_concept_id"]
            }
            let (csv, positions) = try open(file, required: ["person_id", table.concept, table.times.last!], optional: optional)
            summary.files += 1
            while let row = try nextRow(csv) {
                do {
                    let id = try person(row, positions)
                    let at = try time(row, positions, table.times)
                    var items = try coded(row, positions, key: table.key, concept: table.concept, sourceConcept: table.sourceConcept,
                                          sourceValue: table.sourceValue)
                    if table.hasValue { try addValue(row, positions, to: &items) }
                    for column in table.columns {
                        guard let name = column.names.first(where: { Self.value(row, positions, $0) != nil }),
                              let text = Self.value(row, positions, name) else { continue }
                        if column.kind == .concept {
                            items.add(column.key, try conceptName(row, positions, name))
                        } else {
                            items.add(column.key, try typed(text, column.kind, column: name))
                        }
                    }
                    summary.rowsByKind[table.file, default: 0] += 1
                    try add(Event(name: table.event, time: at, admission: Self.value(row, positions, "visit_occurrence_id"),
                                  records: [Record(items: items.items, source: "\(Self.name(file)):\(csv.recordLine)")]),
                            patient: id, partitioner)
                } catch let problem as RowProblem {
                    try reject(problem, file: file, line: csv.recordLine)
                }
            }
        }

        /// A measurement's or observation's value: the number (with its
        /// operator), else the value concept, else the string; its unit.
        func addValue(_ row: [String], _ positions: [String: Int], to items: inout ItemList) throws(RowProblem) {
            var shown: String?
            if let text = Self.value(row, positions, "value_as_number") {
                let number = try typed(text, .number, column: "value_as_number")
                let comparator = try conceptName(row, positions, "operator_concept_id")
                shown = [comparator, number.description].compactMap { $0 }.joined(separator: " ")
                items.add("valuenum", number)
            }
            if shown == nil { shown = try conceptName(row, positions, "value_as_concept_id") }
            shown = shown ?? Self.value(row, positions, "value_as_string") ?? Self.value(row, positions, "value_source_value")
            items.add("value", shown)
            items.add("unit", try conceptName(row, positions, "unit_concept_id") ?? Self.value(row, positions, "unit_source_value"))
        }

        mutating func importNotes(_ file: String, _ partitioner: PatientPartitioner) throws {
            let (csv, positions) = try open(file, required: ["person_id", "note_date", "note_text"],
                                            optional: ["note_datetime", "note_type_concept_id", "note_class_concept_id", "note_title",
                                                       "visit_occurrence_id", "note_id"])
            summary.files += 1
            while let row = try nextRow(csv) {
                do {
                    let id = try person(row, positions)
                    let at = try time(row, positions, ["note_datetime", "note_date"])
                    let text = row[positions["note_text"]!]
                    guard text.utf8.count <= maximumTextBytes else {
                        throw RowProblem(field: "note_text", message: "\(text.utf8.count) bytes, more than the \(maximumTextBytes) allowed",
                                         kind: "text too long")
                    }
                    guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                        throw RowProblem(field: "note_text", message: "empty", kind: "no text")
                    }
                    let kind = try conceptName(row, positions, "note_class_concept_id")
                    let type = try conceptName(row, positions, "note_type_concept_id")
                    let title = Self.value(row, positions, "note_title")
                    var items = ItemList()
                    items.add("note_type", kind ?? title ?? type)
                    if let title, title != kind { items.add("note_title", title) }
                    // A discharge summary is the note the sample rules carry over.
                    let isDischarge = [kind, title, type].contains { $0?.lowercased().contains("discharge") == true }
                    summary.rowsByKind["note", default: 0] += 1
                    try add(Event(name: isDischarge ? "discharge" : "notes", time: at,
                                  admission: Self.value(row, positions, "visit_occurrence_id"),
                                  records: [Record(items: items.items, source: "\(Self.name(file)):\(csv.recordLine)")], text: text),
                            patient: id, partitioner)
                } catch let problem as RowProblem {
                    try reject(problem, file: file, line: csv.recordLine)
                }
            }
        }

        func add(_ event: Event, patient: String, _ partitioner: PatientPartitioner) throws {
            var event = event
            codeMaps?.annotate(&event)
            try partitioner.add(patient: patient, event: event)
        }

        static func name(_ file: String) -> String { (file as NSString).lastPathComponent }
    }
}
