import EHR
import Foundation
import TGSupport

/// The phenotypes of the phenotyping task, in label order: each a CCS
/// category (the shipped `llm4ehr-phenotypes.tsv`: the MIMIC benchmark's 25
/// acute care conditions) or a user's file of the same form.
public struct PhenotypeSet: Sendable {
    public struct Phenotype: Sendable, Equatable {
        public var name: String
        /// "acute" or "chronic", as the benchmark classes it.
        public var type: String
        /// The CCS category numbers that make it.
        public var categories: Set<String>
    }

    public var phenotypes: [Phenotype]
    public var source: String

    public static let shippedName = "llm4ehr-phenotypes.tsv"

    public static func load(_ path: String?) throws -> PhenotypeSet {
        guard let path else {
            guard let url = Bundle.module.url(forResource: "llm4ehr-phenotypes", withExtension: "tsv") else {
                throw InputError(file: shippedName, message: "missing from the build's resources")
            }
            return try parse(String(contentsOf: url, encoding: .utf8), file: shippedName, source: "shipped")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, message: "cannot read the phenotype file (missing, or not UTF-8)")
        }
        return try parse(text, file: path, source: path)
    }

    /// Parses `phenotype<TAB>type<TAB>ccs` lines (`ccs`: category numbers
    /// separated by `|`) after `#` comments and that header.
    public static func parse(_ text: String, file: String, source: String) throws -> PhenotypeSet {
        let header = ["phenotype", "type", "ccs"]
        var set = PhenotypeSet(phenotypes: [], source: source)
        for (number, fields) in try tsvRows(text, file: file, header: header) {
            guard !fields[0].isEmpty else { throw InputError(file: file, line: number, field: "phenotype", message: "empty") }
            guard !set.phenotypes.contains(where: { $0.name == fields[0] }) else {
                throw InputError(file: file, line: number, field: "phenotype", message: "\"\(fields[0])\" listed twice")
            }
            let categories = fields[2].split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !categories.isEmpty, categories.allSatisfy({ !$0.isEmpty && Int($0) != nil }) else {
                throw InputError(file: file, line: number, field: "ccs", message: "expected CCS category numbers, found \"\(fields[2])\"")
            }
            set.phenotypes.append(Phenotype(name: fields[0], type: fields[1], categories: Set(categories)))
        }
        guard !set.phenotypes.isEmpty else { throw InputError(file: file, message: "no phenotypes") }
        return set
    }

    /// What an admission's diagnoses say.
    public struct Labels: Sendable, Equatable {
        /// One 0/1 per phenotype, in order.
        public var vector: [Int]
        /// Diagnosis records read, and those whose code the maps lack.
        public var diagnoses = 0
        public var unmapped = 0
    }

    /// The phenotypes of `diagnoses` (`diagnoses_icd` events' records:
    /// `icd_code`, `icd_version`), through the CCS categories of `maps`.
    public func labels(of diagnoses: [Record], maps: CodeMaps) -> Labels {
        var labels = Labels(vector: Array(repeating: 0, count: phenotypes.count))
        for record in diagnoses {
            guard let code = record["icd_code"]?.description, !code.isEmpty else { continue }
            labels.diagnoses += 1
            guard let system = record["icd_version"].flatMap({ CodeMaps.diagnosisSystem(icdVersion: $0.description) }),
                  let category = maps.category(code, system) else {
                labels.unmapped += 1
                continue
            }
            for (index, phenotype) in phenotypes.enumerated() where phenotype.categories.contains(category) {
                labels.vector[index] = 1
            }
        }
        return labels
    }
}
