import Foundation
import TGSupport

/// Imports MIMIC-IV as PhysioNet ships it (the `hosp`, optional `icu` and
/// `note` module folders of `.csv.gz` or `.csv` tables) into a timeline
/// file. Tables are streamed row by row and partitioned on disk by patient
/// (see `PatientPartitioner`); only the small dictionaries (ICD titles, lab
/// items, radiology exam names) and one discharge time per admission are
/// held in memory.
public struct MIMICImporter {
    public var maximumTextBytes = 4 << 20
    public var scratch: String?
    /// CCS / ATC categories added to coded records (`CodeMaps`).
    public var codeMaps: CodeMaps?

    public init() {}

    public struct Folders: Sendable {
        public var hosp: String
        public var icu: String?
        public var ed: String?
        public var note: String?
        public init(hosp: String, icu: String? = nil, ed: String? = nil, note: String? = nil) {
            self.hosp = hosp
            self.icu = icu
            self.ed = ed
            self.note = note
        }

        func folder(_ module: MIMICTable.Module) -> String? {
            switch module {
            case .hosp: return hosp
            case .icu: return icu
            case .ed: return ed
            case .note: return note
            }
        }
    }

    /// A table's file in `folder`: `name.csv.gz` or `name.csv`.
    static func tableFile(_ name: String, in folder: String) -> String? {
        for candidate in ["\(folder)/\(name).csv.gz", "\(folder)/\(name).csv"]
        where FileManager.default.fileExists(atPath: candidate) { return candidate }
        return nil
    }

    public func run(_ folders: Folders, output: JSONLinesWriter, rejects: RejectLog,
                    progress: ((String) -> Void)? = nil) throws -> ImportSummary {
        for module in [MIMICTable.Module.hosp, .icu, .ed, .note] {
            guard let folder = folders.folder(module) else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError(file: folder, message: "not a folder (expected MIMIC-IV's \(module.rawValue) module)")
            }
        }
        for required in ["patients", "admissions"] where Self.tableFile(required, in: folders.hosp) == nil {
            throw InputError(file: folders.hosp, message: "no \(required).csv.gz or \(required).csv (required)")
        }
        var files: [String] = []
        for table in MIMICTable.all {
            if let folder = folders.folder(table.module), let file = Self.tableFile(table.file, in: folder) { files.append(file) }
        }
        // MIMIC's CSV compresses about 6 to 1.
        let partitioner = try PatientPartitioner.forImport(of: files, output: output.path, scratch: scratch, gzipRatio: 6)
        var state = ImportState(summary: ImportSummary(), rejects: rejects)

        try importPatients(Self.tableFile("patients", in: folders.hosp)!, partitioner, &state)
        progress?("patients: \(state.summary.rowsByKind["patients", default: 0]) rows")
        let dictionaries = try Dictionaries(folders: folders)
        for table in MIMICTable.all {
            guard let folder = folders.folder(table.module), let file = Self.tableFile(table.file, in: folder) else {
                continue
            }
            try importTable(table, file: file, dictionaries: dictionaries, partitioner, &state)
            progress?("\(table.file): \(state.summary.rowsByKind[table.file, default: 0]) rows")
        }
        var summary = state.summary
        for (table, count) in state.unnamedItems.sorted(by: { $0.key < $1.key }) {
            summary.warnings.append("\(count) rows of \(table) are named only by their item id (\"itemid 50912\"): "
                + "the item dictionary (d_labitems or d_items) is missing or lacks them, so their tests cannot link to concepts")
        }
        try partitioner.forEachPatient({ patient in
            if !state.withRecord.contains(patient.id) { summary.patientsWithoutRecord += 1 }
            try output.write(patient)
            summary.patients += 1
            summary.events += patient.events.count
        }, conflict: { conflict in
            try rejects.reject(InputError(file: folders.hosp, field: conflict.source,
                                          message: "patient \(conflict.patient): \(conflict.message)"), kind: "duplicate")
        })
        summary.countRejects(rejects)
        return summary
    }

    struct ImportState {
        var summary: ImportSummary
        let rejects: RejectLog
        var withRecord = Set<String>()
        var discharges: [String: Timestamp] = [:]
        /// Admission id → the patient it belongs to (from admissions).
        var admissionSubjects: [String: String] = [:]
        /// Rows named by their item id for want of the item dictionary, by table.
        var unnamedItems: [String: Int] = [:]
        /// ED stay id → its admission (if any), start and end.
        var edStays: [String: (admission: String?, start: Timestamp, end: Timestamp?)] = [:]

        func reject(_ error: InputError, kind: String) throws {
            try rejects.reject(error, kind: kind)
        }
    }

    /// The next well-formed row; a malformed one (wrong field count, bad
    /// UTF-8, open quote) is rejected by the import mode and skipped.
    private func nextRow(_ csv: CSVReader, _ state: inout ImportState) throws -> [String]? {
        while true {
            do {
                guard let row = try csv.next() else { return nil }
                state.summary.rows += 1
                return row
            } catch let error as InputError where error.line != nil {
                state.summary.rows += 1
                try state.reject(error, kind: "bad row")
            }
        }
    }

    private func importPatients(_ file: String, _ partitioner: PatientPartitioner, _ state: inout ImportState) throws {
        let csv = try CSVReader(path: file)
        let columns = try csv.columns(["subject_id", "gender", "anchor_age", "anchor_year", "anchor_year_group", "dod"])
        state.summary.files += 1
        while let row = try nextRow(csv, &state) {
            let subject = row[columns[0]]
            guard !subject.isEmpty else {
                try state.reject(InputError(file: file, line: csv.recordLine, field: "subject_id", message: "empty"), kind: "no subject")
                continue
            }
            var items: [Item] = []
            for (offset, name) in ["gender", "anchor_age", "anchor_year", "anchor_year_group", "dod"].enumerated() {
                let value = row[columns[offset + 1]]
                guard !value.isEmpty else { continue }
                if name == "anchor_age" || name == "anchor_year" {
                    guard let number = Int64(value) else {
                        try state.reject(InputError(file: file, line: csv.recordLine, field: name, message: "not an integer: \"\(value)\""),
                                         kind: "bad value")
                        items = []
                        break
                    }
                    items.append(Item(name, .integer(number)))
                } else {
                    items.append(Item(name, .string(value)))
                }
            }
            guard !items.isEmpty else { continue }
            state.summary.rowsByKind["patients", default: 0] += 1
            state.withRecord.insert(subject)
            try partitioner.add(patient: subject, statics: items, source: "\(file):\(csv.recordLine)")
        }
    }

    /// A row that cannot be imported: the field, why, and the reject kind.
    struct RowProblem: Error {
        var field: String?
        var message: String
        var kind: String
        init(_ field: String?, _ message: String, _ kind: String) {
            self.field = field
            self.message = message
            self.kind = kind
        }
    }

    /// Where a table's columns are in its file, checked once from the header.
    struct TableColumns {
        let subject: Int
        let admission: Int?
        let stay: Int?
        let times: [Int]
        let items: [Int]
        let id: Int?
        let text: Int?
        let lookup: [Int]

        init(_ table: MIMICTable, csv: CSVReader, file: String) throws {
            subject = try csv.columns(["subject_id"])[0]
            admission = csv.header.firstIndex(of: "hadm_id")
            if case .admissionDischarge = table.time, admission == nil {
                throw InputError(file: file, line: 1, field: "hadm_id", message: "missing column")
            }
            // ED tables name their stay; the stay names the admission.
            stay = table.module == .ed ? try csv.columns(["stay_id"])[0] : nil
            if case .columns(let names) = table.time {
                // Every listed time column is looked for; at least the first must exist.
                times = try csv.columns([names[0]]) + names.dropFirst().compactMap { csv.header.firstIndex(of: $0) }
            } else {
                times = []
            }
            items = try csv.columns(table.columns.map(\.name))
            id = try table.idColumn.map { try csv.columns([$0])[0] }
            text = try table.textColumn.map { try csv.columns([$0])[0] }
            switch table.lookup {
            case .icdDiagnosis?, .icdProcedure?: lookup = try csv.columns(["icd_code", "icd_version"])
            case .labItem?, .icuItem?: lookup = try csv.columns(["itemid"])
            case .radiologyExam?: lookup = try csv.columns(["note_id"])
            case nil: lookup = []
            }
        }
    }

    /// Streams one table into the partitions: each row's patient, admission,
    /// time, items, records and text, then the event; a bad row is rejected
    /// (by the import mode) with its field and skipped.
    private func importTable(_ table: MIMICTable, file: String, dictionaries: Dictionaries,
                             _ partitioner: PatientPartitioner, _ state: inout ImportState) throws {
        let csv = try CSVReader(path: file)
        state.summary.files += 1
        let columns = try TableColumns(table, csv: csv, file: file)
        let tableName = (file as NSString).lastPathComponent
        while let row = try nextRow(csv, &state) {
            let source = "\(tableName):\(csv.recordLine)"
            do {
                let subject = try Self.subject(row[columns.subject])
                let stay = columns.stay.map { row[$0] } ?? ""
                var admission = columns.admission.map { row[$0] }.flatMap { $0.isEmpty ? nil : $0 }
                if table.module == .ed, table.file != "edstays" {
                    guard let known = state.edStays[stay] else {
                        throw RowProblem("stay_id", stay.isEmpty ? "empty" : "ED stay \(stay) not in edstays", "unknown stay")
                    }
                    admission = admission ?? known.admission
                }
                guard let time = try Self.time(of: row, table, columns, admission: admission, stay: stay, state) else { continue }
                if let admission, table.file != "admissions", let owner = state.admissionSubjects[admission], owner != subject {
                    throw RowProblem("hadm_id", "admission \(admission) belongs to patient \(owner), not \(subject)", "wrong patient")
                }
                var items = try Self.items(of: row, table, columns)
                if Self.lookUp(row, table, columns, dictionaries, into: &items) == .unnamed {
                    state.unnamedItems[tableName, default: 0] += 1
                }
                let records = Self.records(of: row, table, columns, dictionaries, items: items, source: source)
                let text = try columns.text.map { try checkedText(row[$0], column: table.textColumn) }
                try Self.remember(table, subject: subject, admission: admission, stay: stay, time: time, items: items, in: &state)
                let identity = columns.id.map { row[$0] }.flatMap { $0.isEmpty ? nil : "\(table.file)/\($0)" }
                var event = Event(name: table.event, time: time, admission: admission, records: records, text: text,
                                  source: identity ?? (text != nil ? source : nil))
                state.summary.rowsByKind[table.file, default: 0] += 1
                codeMaps?.annotate(&event)
                try partitioner.add(patient: subject, event: event)
            } catch let problem as RowProblem {
                try state.reject(InputError(file: file, line: csv.recordLine, field: problem.field, message: problem.message),
                                 kind: problem.kind)
            }
        }
    }

    /// The row's patient: MIMIC's subject ids are numbers.
    static func subject(_ value: String) throws -> String {
        guard !value.isEmpty else { throw RowProblem("subject_id", "empty", "no subject") }
        guard value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw RowProblem("subject_id", "not a number: \"\(value)\"", "bad subject")
        }
        return value
    }

    /// The row's time: its first non-empty time column, or the admission's
    /// discharge, or the ED stay's start or end. nil (skipped without a
    /// reject) only for an ED row whose stay has no time.
    static func time(of row: [String], _ table: MIMICTable, _ columns: TableColumns, admission: String?, stay: String,
                     _ state: ImportState) throws -> Timestamp? {
        switch table.time {
        case .columns(let names):
            for (position, column) in columns.times.enumerated() where !row[column].isEmpty {
                guard let parsed = Timestamp(parsing: row[column]) else {
                    throw RowProblem(names[position], "not a valid time: \"\(row[column])\"", "bad time")
                }
                return parsed
            }
            throw RowProblem(names.joined(separator: "/"), "empty", "no time")
        case .admissionDischarge:
            guard let admission, let discharge = state.discharges[admission] else {
                throw RowProblem("hadm_id", admission.map { "admission \($0) not in admissions" } ?? "empty", "unknown admission")
            }
            return discharge
        case .edStayStart:
            return state.edStays[stay]?.start
        case .edStayEnd:
            return state.edStays[stay]?.end ?? state.edStays[stay]?.start
        }
    }

    /// The row's item columns, typed as the table says.
    static func items(of row: [String], _ table: MIMICTable, _ columns: TableColumns) throws -> [Item] {
        var items: [Item] = []
        for (column, spec) in zip(columns.items, table.columns) {
            let value = row[column]
            guard !value.isEmpty else { continue }
            switch spec.kind {
            case .text: items.append(Item(spec.key, .string(value)))
            case .integer:
                guard let number = Int64(value) else { throw RowProblem(spec.name, "not an integer: \"\(value)\"", "bad value") }
                items.append(Item(spec.key, .integer(number)))
            case .number:
                guard let number = Double(value), number.isFinite else {
                    throw RowProblem(spec.name, "not a number: \"\(value)\"", "bad value")
                }
                items.append(Item(spec.key, .number(number)))
            }
        }
        return items
    }

    enum Lookup { case named, unnamed }

    /// Adds what the dictionaries say of the row's code or item: ICD
    /// titles, lab and ICU item labels (the item id itself when the
    /// dictionary lacks it: `.unnamed`), a radiology report's first exam.
    static func lookUp(_ row: [String], _ table: MIMICTable, _ columns: TableColumns, _ dictionaries: Dictionaries,
                       into items: inout [Item]) -> Lookup {
        switch table.lookup {
        case .icdDiagnosis?, .icdProcedure?:
            let key = row[columns.lookup[0]] + "|" + row[columns.lookup[1]]
            let titles = table.lookup == .icdDiagnosis ? dictionaries.diagnoses : dictionaries.procedures
            if let title = titles[key] { items.append(Item("long_title", .string(title))) }
        case .labItem?:
            // The item's label; without d_labitems (or for an unknown
            // item) the id itself, so the row still names its test.
            let itemID = row[columns.lookup[0]]
            if let item = dictionaries.labItems[itemID] {
                items.insert(Item("item_name", .string(item.label)), at: 0)
                if !item.fluid.isEmpty { items.append(Item("fluid", .string(item.fluid))) }
                if !item.category.isEmpty { items.append(Item("category", .string(item.category))) }
            } else if !itemID.isEmpty {
                items.insert(Item("item_name", .string("itemid \(itemID)")), at: 0)
                return .unnamed
            }
        case .icuItem?:
            // The item's label; without d_items, the id itself.
            let itemID = row[columns.lookup[0]]
            if let label = dictionaries.icuItems[itemID] {
                items.insert(Item("item_name", .string(label)), at: 0)
            } else if !itemID.isEmpty {
                items.insert(Item("item_name", .string("itemid \(itemID)")), at: 0)
                return .unnamed
            }
        case .radiologyExam?:
            // A report can cover several exams: one record each (`records`).
            if let exam = dictionaries.radiologyExams[row[columns.lookup[0]]]?.first {
                items.insert(Item("exam_name", .string(exam)), at: 0)
            }
        case nil: break
        }
        return .named
    }

    /// The row's records: one, or one per exam of a radiology report.
    static func records(of row: [String], _ table: MIMICTable, _ columns: TableColumns, _ dictionaries: Dictionaries,
                        items: [Item], source: String) -> [Record] {
        if table.lookup == .radiologyExam, let exams = dictionaries.radiologyExams[row[columns.lookup[0]]], exams.count > 1 {
            return exams.map { Record(items: [Item("exam_name", .string($0))] + items.dropFirst(), source: source) }
        }
        return [Record(items: items, source: source)]
    }

    /// A note's text, refused above `maximumTextBytes`.
    func checkedText(_ body: String, column: String?) throws -> String {
        guard body.utf8.count <= maximumTextBytes else {
            throw RowProblem(column, "text of \(body.utf8.count) bytes exceeds the limit of \(maximumTextBytes)", "text too large")
        }
        return body
    }

    /// What later tables need of this row: an ED stay's admission and
    /// times, an admission's patient and discharge time.
    static func remember(_ table: MIMICTable, subject: String, admission: String?, stay: String, time: Timestamp, items: [Item],
                         in state: inout ImportState) throws {
        if table.file == "edstays" {
            guard !stay.isEmpty else { throw RowProblem("stay_id", "empty", "no stay") }
            var end: Timestamp?
            if let out = items.first(where: { $0.key == "outtime" }) {
                guard let stamp = Timestamp(parsing: out.value.description) else {
                    throw RowProblem("outtime", "not a valid time: \"\(out.value)\"", "bad time")
                }
                end = stamp
            }
            state.edStays[stay] = (admission, time, end)
        }
        if table.file == "admissions", let admission {
            if let owner = state.admissionSubjects[admission], owner != subject {
                throw RowProblem("hadm_id", "admission \(admission) already belongs to patient \(owner)", "wrong patient")
            }
            state.admissionSubjects[admission] = subject
            if let value = items.first(where: { $0.key == "dischtime" }) {
                guard let stamp = Timestamp(parsing: value.value.description) else {
                    throw RowProblem("dischtime", "not a valid time: \"\(value.value)\"", "bad time")
                }
                guard !(stamp < time) else { throw RowProblem("dischtime", "\(value.value) is before the admission time", "bad time") }
                state.discharges[admission] = stamp
            }
        }
    }

    /// The dictionary tables, loaded whole (they are small).
    struct Dictionaries {
        var diagnoses: [String: String] = [:]
        var procedures: [String: String] = [:]
        var labItems: [String: (label: String, fluid: String, category: String)] = [:]
        /// Note id → its exam names, in file order, without repeats.
        var radiologyExams: [String: [String]] = [:]
        /// ICU item id → label (d_items).
        var icuItems: [String: String] = [:]

        init(folders: Folders) throws {
            if let file = MIMICImporter.tableFile("d_icd_diagnoses", in: folders.hosp) {
                diagnoses = try Self.titles(file)
            }
            if let file = MIMICImporter.tableFile("d_icd_procedures", in: folders.hosp) {
                procedures = try Self.titles(file)
            }
            if let file = MIMICImporter.tableFile("d_labitems", in: folders.hosp) {
                let csv = try CSVReader(path: file)
                let columns = try csv.columns(["itemid", "label", "fluid", "category"])
                while let row = try csv.next() {
                    labItems[row[columns[0]]] = (row[columns[1]], row[columns[2]], row[columns[3]])
                }
            }
            if let folder = folders.icu, let file = MIMICImporter.tableFile("d_items", in: folder) {
                let csv = try CSVReader(path: file)
                let columns = try csv.columns(["itemid", "label"])
                while let row = try csv.next() { icuItems[row[columns[0]]] = row[columns[1]] }
            }
            if let folder = folders.note, let file = MIMICImporter.tableFile("radiology_detail", in: folder) {
                let csv = try CSVReader(path: file)
                let columns = try csv.columns(["note_id", "field_name", "field_value"])
                while let row = try csv.next() {
                    let exam = row[columns[2]].trimmingCharacters(in: .whitespaces)
                    guard row[columns[1]] == "exam_name", !exam.isEmpty else { continue }
                    if !(radiologyExams[row[columns[0]]]?.contains(exam) ?? false) { radiologyExams[row[columns[0]], default: []].append(exam) }
                }
            }
        }

        static func titles(_ file: String) throws -> [String: String] {
            let csv = try CSVReader(path: file)
            let columns = try csv.columns(["icd_code", "icd_version", "long_title"])
            var titles: [String: String] = [:]
            while let row = try csv.next() { titles[row[columns[0]] + "|" + row[columns[1]]] = row[columns[2]] }
            return titles
        }
    }
}
