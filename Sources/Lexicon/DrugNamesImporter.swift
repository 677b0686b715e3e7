import Foundation
import TGSupport

/// Joins other names of a drug to the drug concepts the lexicon already
/// has, from the drug-named-entity-recognition dictionary (a pickle of
/// DrugBank's open vocabulary, MeSH, MedlinePlus, NHS and Wikipedia names:
/// `drug_variant_to_canonical`, `drug_variant_to_variant_data`).
///
/// Records and notes name drugs by INN, USAN, brand or abbreviation
/// ("salbutamol", "albuterol", "Ventolin"); the knowledge sources name one
/// of them (Synthea's modules: "Albuterol"). For each drug of the
/// dictionary whose canonical or generic names name exactly one drug
/// concept of the lexicon (`drugConcepts`), every name of the drug not
/// already naming a concept becomes a term of that concept (source
/// `DRUGNAMES`, term type `SY` or `BN` for brands). Drugs the lexicon does
/// not know are left out (a name alone links nothing to knowledge), as are
/// names the dictionary gives several drugs.
struct DrugNamesImporter {
    static let source = "DRUGNAMES"

    let path: String
    let record: LexiconManifest.FileRecord
    /// Canonical name → its names (the canonical one first), each with
    /// whether it is a brand.
    private let drugs: [(canonical: String, names: [(name: String, brand: Bool)])]
    private(set) var counts: [String: Int] = [:]

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, message: "cannot read the drug-name dictionary")
        }
        record = LexiconManifest.FileRecord(path: path, bytes: UInt64(data.count), sha256: try sha256OfFile(atPath: path))
        let root = try PickleReader(file: path).read([UInt8](data))
        func dict(_ key: String) throws -> [(String, JSONValue)] {
            guard let members = root[key]?.objectValue else {
                throw InputError(file: path, field: key, message: "missing or not a dict (not the drug-named-entity-recognition dictionary?)")
            }
            return members
        }
        var canonicalOf: [String: [String]] = [:]
        var order: [String] = []
        for (variant, value) in try dict("drug_variant_to_canonical") {
            let list = value.arrayValue ?? []
            let canonicals = list.compactMap(\.stringValue)
            guard value.arrayValue != nil, canonicals.count == list.count else {
                throw InputError(file: path, field: "drug_variant_to_canonical[\"\(variant)\"]", message: "expected a list of names")
            }
            if canonicalOf[variant] == nil { order.append(variant) }
            canonicalOf[variant] = canonicals
        }
        var brand: [String: Bool] = [:]
        for (variant, value) in try dict("drug_variant_to_variant_data") {
            guard let data = value.objectValue else {
                throw InputError(file: path, field: "drug_variant_to_variant_data[\"\(variant)\"]", message: "expected a dict")
            }
            brand[variant] = data.first { $0.0 == "is_brand" }?.1 == .bool(true)
        }
        var byCanonical: [String: [(name: String, brand: Bool)]] = [:]
        var ambiguous = 0
        for variant in order {
            let canonicals = canonicalOf[variant]!
            guard canonicals.count == 1 else { ambiguous += 1; continue }
            byCanonical[canonicals[0], default: []].append((variant, brand[variant] ?? false))
        }
        drugs = byCanonical.keys.sorted().map { canonical in
            let others = byCanonical[canonical]!.filter { $0.name != canonical }
            return (canonical, [(canonical, brand[canonical] ?? false)] + others)
        }
        counts["drugs"] = drugs.count
        counts["names"] = order.count
        counts["ambiguousNames"] = ambiguous
    }

    /// Adds the names of the drugs that name one of `drugConcepts`.
    mutating func importConcepts(into writer: LexiconWriter, drugConcepts: Set<String>) throws {
        var joinedDrugs = 0, added = 0, taken = 0
        for drug in drugs {
            // The concept: what the canonical and generic names name.
            let named = Set(drug.names.filter { !$0.brand }.compactMap { writer.concept(named: $0.name) })
                .intersection(drugConcepts)
            guard named.count == 1, let cui = named.first else { continue }
            joinedDrugs += 1
            for (name, isBrand) in drug.names {
                if let owner = writer.concept(named: name) {
                    if owner != cui { taken += 1 }
                    continue
                }
                if try writer.addTerm(cui: cui, text: name, source: Self.source, termType: isBrand ? "BN" : "SY", code: nil,
                                      isPreferred: false, nameRank: LexiconWriter.NameRank.other) {
                    added += 1
                }
            }
        }
        counts["drugsJoined"] = joinedDrugs
        counts["namesAdded"] = added
        counts["namesOfOtherConcepts"] = taken
    }
}
