import TGSupport

/// One OMOP concept: what a `*_concept_id` stands for.
public struct OMOPConcept: Equatable, Sendable {
    public var name: String
    /// OMOP's `vocabulary_id` (`SNOMED`, `ICD10CM`, `LOINC`, `RxNorm`, `UCUM` ...).
    public var vocabulary: String
    public var code: String

    /// The code as CLMBR and EHRSHOT write it: `SNOMED/44054006`.
    public var clmbrCode: String { "\(vocabulary)/\(code)" }

    /// The vocabulary under the name the FHIR importer gives its system, so
    /// extraction links an OMOP row by its code as it links a FHIR one.
    public var systemName: String {
        switch vocabulary {
        case "SNOMED": return "SNOMED CT"
        case "ICD10CM": return "ICD-10-CM"
        case "ICD9CM": return "ICD-9-CM"
        case "ICD10PCS": return "ICD-10-PCS"
        case "ICD9Proc": return "ICD-9-CM procedures"
        case "CPT4": return "CPT"
        default: return vocabulary
        }
    }
}

/// The `concept` table of an OMOP CDM export (or Athena's CONCEPT.csv):
/// concept id → name, vocabulary and code. Held in memory; a full Athena
/// download (about 6 million concepts) takes about 1 GB, a CDM extract's
/// own concept rows far less.
public struct OMOPConcepts: Sendable {
    private var concepts: [Int64: OMOPConcept] = [:]

    public init() {}

    public var count: Int { concepts.count }

    public subscript(id: Int64) -> OMOPConcept? { concepts[id] }

    public mutating func add(_ id: Int64, _ concept: OMOPConcept) { concepts[id] = concept }

    /// Reads `concept.csv` (comma- or tab-separated, gzipped or not). A row
    /// without an integer id or with a second definition of an id is
    /// refused with its line.
    public init(file: String, rejects: RejectLog) throws {
        let csv = try CSVReader(path: file, detectTabs: true)
        csv.lowercaseHeader()
        let columns = try csv.columns(["concept_id", "concept_name", "vocabulary_id", "concept_code"])
        while true {
            let row: [String]
            do {
                guard let next = try csv.next() else { break }
                row = next
            } catch let error as InputError where error.line != nil {
                try rejects.reject(error, kind: "bad row")
                continue
            }
            guard let id = Int64(row[columns[0]]) else {
                try rejects.reject(InputError(file: file, line: csv.recordLine, field: "concept_id",
                                              message: "not an integer: \"\(row[columns[0]])\""), kind: "bad value")
                continue
            }
            guard concepts[id] == nil else {
                try rejects.reject(InputError(file: file, line: csv.recordLine, field: "concept_id",
                                              message: "concept \(id) is defined twice"), kind: "duplicate")
                continue
            }
            concepts[id] = OMOPConcept(name: row[columns[1]], vocabulary: row[columns[2]], code: row[columns[3]])
        }
    }
}
