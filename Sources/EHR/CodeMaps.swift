import Foundation
import TGSupport

/// Category maps from codes to the classes EHR-R1's `_ccs` and `_atc`
/// tasks predict: CCS categories for ICD diagnoses and procedures, ATC
/// classes for drugs. Applied at import (`--code-maps DIR`), they add a
/// `ccs_type` or `atc_type` item to the records they match, which the
/// context shows ("CCS Type") and the mapped tasks predict.
///
/// A folder may hold, by file name:
/// - `ccs_dx_icd10cm*.csv`, `ccs_pr_icd10pcs*.csv`: AHRQ HCUP's single-level
///   CCS for ICD-10-CM / ICD-10-PCS (columns `'ICD-10-CM CODE'`,
///   `'CCS CATEGORY DESCRIPTION'` ...; codes in single quotes);
/// - `CCS-SingleDiagnosisGrouper*.txt`: HCUP's ICD-9-CM diagnosis grouper
///   (a `N    Name` line per category, then its codes indented);
/// - `*.tsv`: a user's own map, header `system	code	label`, with systems
///   `ICD9-DX`, `ICD10-DX`, `ICD9-PR`, `ICD10-PR` (CCS) and `NDC`, `RXNORM`
///   (ATC). The open sources have no drug-to-ATC map; this is where one
///   goes.
/// Later files win over earlier ones for the same code (files are read in
/// name order).
public struct CodeMaps: Sendable {
    public enum System: String, Sendable, CaseIterable {
        case icd9Diagnosis = "ICD9-DX", icd10Diagnosis = "ICD10-DX", icd9Procedure = "ICD9-PR", icd10Procedure = "ICD10-PR"
        case ndc = "NDC", rxnorm = "RXNORM"
    }

    private var labels: [System: [String: String]] = [:]
    /// CCS category numbers ("2", "108"), from the HCUP files (a user's
    /// `.tsv` map names labels only).
    private var categories: [System: [String: String]] = [:]
    /// The files read, for provenance.
    public private(set) var files: [String] = []

    public init() {}

    public var isEmpty: Bool { labels.values.allSatisfy(\.isEmpty) }
    public func count(_ system: System) -> Int { labels[system]?.count ?? 0 }
    /// Codes of `system` with a CCS category number.
    public func categoryCount(_ system: System) -> Int { categories[system]?.count ?? 0 }

    /// A code as the maps key it: no dots or spaces, upper case; NDCs
    /// padded to 11 digits (MIMIC drops leading zeros).
    static func key(_ code: String, _ system: System) -> String {
        var text = code.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ".", with: "").uppercased()
        if system == .ndc {
            if let dot = code.firstIndex(of: ".") { text = String(code[..<dot]) }
            text = text.replacingOccurrences(of: "-", with: "")
            if text.count < 11 { text = String(repeating: "0", count: 11 - text.count) + text }
        }
        return text
    }

    public func label(_ code: String, _ system: System) -> String? { labels[system]?[Self.key(code, system)] }

    /// The CCS category number of a diagnosis or procedure code, where an
    /// HCUP file gave one.
    public func category(_ code: String, _ system: System) -> String? { categories[system]?[Self.key(code, system)] }

    /// The diagnosis system of an ICD version ("9", "10").
    public static func diagnosisSystem(icdVersion: String) -> System? {
        switch icdVersion { case "9": return .icd9Diagnosis; case "10": return .icd10Diagnosis; default: return nil }
    }

    /// The maps in `folder` (see the type's comment); an error names the
    /// file, line and field of anything it cannot read.
    public static func load(folder: String) throws -> CodeMaps {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: folder, message: "not a folder of code maps")
        }
        var maps = CodeMaps()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            let path = folder + "/" + name
            if name.hasPrefix("ccs_dx_icd10cm"), name.hasSuffix(".csv") {
                try maps.readHCUP(path, codeColumn: "'ICD-10-CM CODE'", system: .icd10Diagnosis)
            } else if name.hasPrefix("ccs_pr_icd10pcs"), name.hasSuffix(".csv") {
                try maps.readHCUP(path, codeColumn: "'ICD-10-PCS CODE'", system: .icd10Procedure)
            } else if name.hasPrefix("CCS-SingleDiagnosisGrouper"), name.hasSuffix(".txt") {
                try maps.readGrouper(path, system: .icd9Diagnosis)
            } else if name.hasSuffix(".tsv") {
                try maps.readTable(path)
            } else {
                continue
            }
            maps.files.append(path)
        }
        guard !maps.files.isEmpty else {
            throw InputError(file: folder, message: "no code maps (ccs_dx_icd10cm*.csv, ccs_pr_icd10pcs*.csv, CCS-SingleDiagnosisGrouper*.txt or *.tsv)")
        }
        return maps
    }

    private mutating func set(_ code: String, _ label: String, _ system: System, category: String? = nil) {
        labels[system, default: [:]][Self.key(code, system)] = label
        if let category { categories[system, default: [:]][Self.key(code, system)] = category }
    }

    private static func unquoted(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") { value = String(value.dropFirst().dropLast()) }
        return value.trimmingCharacters(in: .whitespaces)
    }

    mutating func readHCUP(_ path: String, codeColumn: String, system: System) throws {
        let csv = try CSVReader(path: path)
        let columns = try csv.columns([codeColumn, "'CCS CATEGORY DESCRIPTION'"])
        // The category's number, where the file has it (HCUP's do).
        let numberColumn = csv.header.firstIndex(of: "'CCS CATEGORY'")
        while let row = try csv.next() {
            let code = Self.unquoted(row[columns[0]]), label = Self.unquoted(row[columns[1]])
            let category = numberColumn.map { Self.unquoted(row[$0]) } ?? ""
            guard !code.isEmpty else { throw InputError(file: path, line: csv.recordLine, field: codeColumn, message: "empty") }
            guard !label.isEmpty else {
                throw InputError(file: path, line: csv.recordLine, field: "'CCS CATEGORY DESCRIPTION'", message: "empty")
            }
            set(code, label, system, category: category.isEmpty ? nil : category)
        }
    }

    mutating func readGrouper(_ path: String, system: System) throws {
        let reader = try LineReader(path: path)
        var category: (number: String, name: String)?
        var codes = 0
        while let bytes = try reader.nextLine() {
            guard let line = decodeUTF8(bytes) else {
                throw InputError(file: path, line: reader.lineNumber, message: "invalid UTF-8")
            }
            guard let first = line.unicodeScalars.first else { continue }
            if CharacterSet.decimalDigits.contains(first) {
                // "12   Name of the category"
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                guard parts.count == 2, Int(parts[0]) != nil else {
                    throw InputError(file: path, line: reader.lineNumber, field: "category", message: "expected a number and a name")
                }
                category = (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            } else if first == " ", let category {
                for code in line.split(separator: " ") {
                    set(String(code), category.name, system, category: category.number)
                    codes += 1
                }
            }
        }
        guard codes > 0 else { throw InputError(file: path, message: "no category with codes (not a CCS grouper file?)") }
    }

    mutating func readTable(_ path: String) throws {
        let reader = try LineReader(path: path)
        guard let header = try reader.nextLine().flatMap(decodeUTF8), header.split(separator: "\t").map(String.init) == ["system", "code", "label"] else {
            throw InputError(file: path, line: 1, message: "expected the header system<TAB>code<TAB>label")
        }
        while let bytes = try reader.nextLine() {
            guard let line = decodeUTF8(bytes) else { throw InputError(file: path, line: reader.lineNumber, message: "invalid UTF-8") }
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else {
                throw InputError(file: path, line: reader.lineNumber, message: "\(fields.count) fields, expected 3 (system, code, label)")
            }
            guard let system = System(rawValue: fields[0]) else {
                throw InputError(file: path, line: reader.lineNumber, field: "system",
                                 message: "\"\(fields[0])\" is not one of \(System.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !fields[1].isEmpty else { throw InputError(file: path, line: reader.lineNumber, field: "code", message: "empty") }
            guard !fields[2].isEmpty else { throw InputError(file: path, line: reader.lineNumber, field: "label", message: "empty") }
            set(fields[1], fields[2], system)
        }
    }

    /// Adds `ccs_type` to an event's coded diagnoses and procedures and
    /// `atc_type` to its drugs, where the maps know the code.
    public func annotate(_ event: inout Event) {
        let isDiagnosis = event.name == "diagnoses_icd" || event.name == "diagnosis" || event.name == "condition_occurrence"
        let isProcedure = event.name == "procedures_icd" || event.name == "procedures" || event.name == "procedure_occurrence"
        let isDrug = event.name == "prescriptions" || event.name == "medrecon" || event.name == "emar" || event.name == "drug_exposure"
        guard isDiagnosis || isProcedure || isDrug else { return }
        for index in event.records.indices {
            let record = event.records[index]
            var label: String?
            var key = "ccs_type"
            if isDrug {
                key = "atc_type"
                if let ndc = record["ndc"]?.description, !ndc.isEmpty { label = self.label(ndc, .ndc) }
                if label == nil, let code = record["rxnorm"]?.description { label = self.label(code, .rxnorm) }
            } else if let code = (record["icd_code"] ?? record["code"])?.description {
                let system = record["code_system"]?.description
                let version = record["icd_version"]?.description
                    ?? (system == "ICD-10-CM" || system == "ICD-10-PCS" ? "10" : system == "ICD-9-CM" ? "9" : nil)
                switch (isDiagnosis, version) {
                case (true, "10"?): label = self.label(code, .icd10Diagnosis)
                case (true, "9"?): label = self.label(code, .icd9Diagnosis)
                case (false, "10"?): label = self.label(code, .icd10Procedure)
                case (false, "9"?): label = self.label(code, .icd9Procedure)
                default: label = nil
                }
            }
            if let label, record[key] == nil { event.records[index].items.append(Item(key, .string(label))) }
        }
    }
}
