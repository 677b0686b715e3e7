import Foundation
import TGSupport

/// Imports clinical relations from Synthea's disease modules (a folder of
/// module JSON files, as Synthea ships them under
/// `src/main/resources/modules`): which drugs, procedures, lab tests and
/// symptoms go with which condition, as the modules' authors wrote them.
///
/// - A `MedicationOrder` or `Procedure` whose `reason` names a
///   `ConditionOnset` state (or the attribute one assigns) gives
///   `drug may_treat condition` / `procedure procedure_for condition`.
/// - An `Observation`, `MultiObservation` or `DiagnosticReport` (LOINC)
///   gives `test observed_in condition` for the module's conditions, and a
///   `Symptom` gives `symptom symptom_of condition`, when the module has at
///   most `moduleConditionLimit` conditions (a module about one disease,
///   not a catch-all).
///
/// Concepts: a SNOMED CT code joins the concept an earlier source filed it
/// under (the Disease Ontology's exact xrefs), else a concept that already
/// has the name, else `SNOMEDCT:code`; RxNorm and LOINC codes likewise
/// (`RXNORM:code`, `LOINC:code`); a drug also gets its ingredient's name
/// ("Metformin hydrochloride 500 MG Oral Tablet" → "metformin") as a
/// synonym, since records name ingredients more often than clinical drugs.
/// Terms are filed under their vocabulary (SNOMEDCT, RXNORM, LOINC) with
/// their codes, so patient data's codes link to them; relations under
/// `SYNTHEA`.
struct SyntheaImporter {
    static let source = "SYNTHEA"
    static let moduleConditionLimit = 5

    let directory: String
    private(set) var files: [String] = []
    private(set) var counts: [String: Int] = [:]
    /// The folder for the manifest: its bytes, and one SHA-256 over every
    /// module's path (relative) and content, in path order.
    private(set) var record: LexiconManifest.FileRecord

    struct Coded: Hashable {
        var system: String
        var code: String
        var display: String
    }

    struct Module {
        var file: String
        /// The name other modules call it by: its path under the folder
        /// without `.json` (`heart/chf_lab_work`).
        var key: String = ""
        /// The submodules its `CallSubmodule` states call.
        var submodules: [String] = []
        var conditions: [String: [Coded]] = [:]  // state name → codes
        var attributes: [String: [Coded]] = [:]  // attribute → the conditions assigning it
        var treatments: [(kind: String, codes: [Coded], reason: String?)] = []
        var tests: [Coded] = []
        var symptoms: [String] = []

        var allConditions: [Coded] {
            var seen = Set<Coded>()
            return conditions.keys.sorted().flatMap { conditions[$0]! }.filter { seen.insert($0).inserted }
        }
    }

    private var modules: [Module] = []
    /// The drug concepts it filed (clinical drugs and their ingredients):
    /// other names of drugs join these (`DrugNamesImporter`).
    private(set) var drugConcepts = Set<String>()
    /// Coded thing → the concept it became.
    private var conceptOf: [Coded: String] = [:]
    private var symptomConcept: [String: String] = [:]
    /// A clinical drug's ingredient concept (which carries its relations:
    /// records name "Metformin", not "24 HR Metformin hydrochloride 500 MG").
    private var ingredientOf: [Coded: String] = [:]
    /// Attributes that conditions assign, over all modules (a care module
    /// prescribes for the condition a disease module assigned).
    private var globalAttributes: [String: [Coded]] = [:]

    init(directory: String) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InputError(file: directory, message: "not a folder of Synthea modules")
        }
        let paths = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }.sorted()
            .map { directory + "/" + $0 }
        guard !paths.isEmpty else { throw InputError(file: directory, message: "no module .json files") }
        var digest = SHA256()
        var bytes: UInt64 = 0
        var parsed: [Module] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, message: "cannot read") }
            digest.update(Array(path.dropFirst(directory.count + 1).utf8) + [0])
            digest.update(Array(data))
            bytes += UInt64(data.count)
            let root: JSONValue
            do {
                root = try data.withUnsafeBytes { try JSONValue.parse($0.bindMemory(to: UInt8.self)) }
            } catch let error as JSONSyntaxError {
                throw InputError(file: path, message: error.description)
            }
            var module = try Self.module(root, file: path)
            module.key = String(path.dropFirst(directory.count + 1).dropLast(".json".count))
            parsed.append(module)
            files.append(path)
        }
        modules = parsed
        for module in modules { globalAttributes.merge(module.attributes) { $0 + $1 } }
        record = LexiconManifest.FileRecord(path: directory, bytes: bytes, sha256: digest.hexDigest())
        counts["modules"] = modules.count
    }

    /// One module's coded states, each problem named by its JSON path.
    static func module(_ root: JSONValue, file: String) throws -> Module {
        var module = Module(file: file)
        guard let states = root["states"]?.objectValue else {
            throw InputError(file: file, field: "states", message: "missing or not an object (not a Synthea module?)")
        }
        func codes(_ state: JSONValue, _ path: String) throws -> [Coded] {
            guard let list = state["codes"] else { return [] }
            guard let entries = list.arrayValue else { throw InputError(file: file, field: "\(path).codes", message: "expected an array") }
            return try entries.enumerated().map { index, entry in
                let code: String?
                switch entry["code"] {
                case .string(let text)?: code = text
                case .integer(let number)?: code = String(number)
                default: code = nil
                }
                guard let system = entry["system"]?.stringValue, let code,
                      let display = entry["display"]?.stringValue, !code.isEmpty, !display.isEmpty else {
                    throw InputError(file: file, field: "\(path).codes[\(index)]", message: "needs system, code and display")
                }
                return Coded(system: system, code: code, display: display)
            }
        }
        for (name, state) in states {
            let path = "states.\(name)"
            guard let type = state["type"]?.stringValue else {
                throw InputError(file: file, field: "\(path).type", message: "missing")
            }
            switch type {
            case "ConditionOnset":
                let coded = try codes(state, path)
                module.conditions[name] = coded
                if let attribute = state["assign_to_attribute"]?.stringValue { module.attributes[attribute, default: []] += coded }
            case "MedicationOrder", "Procedure":
                module.treatments.append((type, try codes(state, path), state["reason"]?.stringValue))
            case "Observation", "DiagnosticReport", "MultiObservation":
                module.tests += try codes(state, path).filter { $0.system == "LOINC" }
                for (index, observation) in (state["observations"]?.arrayValue ?? []).enumerated() {
                    module.tests += try codes(observation, "\(path).observations[\(index)]").filter { $0.system == "LOINC" }
                }
            case "CallSubmodule":
                guard let submodule = state["submodule"]?.stringValue, !submodule.isEmpty else {
                    throw InputError(file: file, field: "\(path).submodule", message: "missing or empty")
                }
                module.submodules.append(submodule)
            case "Symptom":
                if let symptom = state["symptom"]?.stringValue, !symptom.isEmpty { module.symptoms.append(symptom) }
            default:
                break
            }
        }
        return module
    }

    static func vocabulary(_ system: String) -> String? {
        switch system {
        case "SNOMED-CT", "SNOMED CT", "SNOMEDCT": return "SNOMEDCT"
        case "RxNorm", "RXNORM": return "RXNORM"
        case "LOINC": return "LOINC"
        default: return nil
        }
    }

    /// "Renal dysplasia (disorder)" → "Renal dysplasia".
    static func withoutSemanticTag(_ display: String) -> String {
        guard display.hasSuffix(")"), let open = display.lastIndex(of: "(") else { return display }
        let tag = display[display.index(after: open)..<display.index(before: display.endIndex)]
        let tags: Set<String> = ["disorder", "finding", "procedure", "situation", "observable entity", "regime/therapy", "morphologic abnormality"]
        return tags.contains(String(tag)) ? display[..<open].trimmingCharacters(in: .whitespaces) : display
    }

    static let salts: Set<String> = ["hydrochloride", "hcl", "sodium", "potassium", "calcium", "sulfate", "citrate", "maleate",
                                     "besylate", "tartrate", "succinate", "acetate", "bromide", "fumarate", "mesylate", "phosphate"]

    /// A clinical drug's ingredient name: the words before its first dose
    /// ("24 HR" and pack prefixes dropped), without a salt at the end.
    static func ingredient(_ display: String) -> String? {
        var words = display.split(separator: " ").map(String.init)
        if words.count >= 2, words[0].allSatisfy(\.isNumber), words[1] == "HR" { words.removeFirst(2) }
        let name = words.prefix { word in !word.contains(where: \.isNumber) && !word.hasPrefix("{") && word != "/" }
        var kept = Array(name)
        while kept.count > 1, salts.contains(kept.last!.lowercased()) { kept.removeLast() }
        let text = kept.joined(separator: " ")
        return text.count >= 4 && text.lowercased() != display.lowercased() ? text : nil
    }

    mutating func importConcepts(into writer: LexiconWriter) throws {
        var added = 0, joined = 0
        for module in modules {
            let coded = module.allConditions + module.treatments.flatMap(\.codes) + module.tests
            for thing in coded where conceptOf[thing] == nil {
                guard let vocabulary = Self.vocabulary(thing.system) else { continue }
                let name = Self.withoutSemanticTag(thing.display)
                let cui = writer.concept(forCode: thing.code, in: vocabulary) ?? writer.concept(named: name)
                    ?? "\(vocabulary):\(thing.code)"
                if writer.hasConcept(cui) { joined += 1 } else { added += 1 }
                conceptOf[thing] = cui
                if vocabulary == "RXNORM" { drugConcepts.insert(cui) }
                try writer.addTerm(cui: cui, text: name, source: vocabulary, termType: "PT", code: thing.code, isPreferred: true,
                                   nameRank: LexiconWriter.NameRank.sourcePreferred)
                if vocabulary == "RXNORM", let ingredient = Self.ingredient(thing.display) {
                    let ingredientCUI = writer.concept(named: ingredient) ?? "INGREDIENT:" + ingredient.lowercased()
                    ingredientOf[thing] = ingredientCUI
                    drugConcepts.insert(ingredientCUI)
                    try writer.addTerm(cui: ingredientCUI, text: ingredient, source: Self.source, termType: "IN", code: nil,
                                       isPreferred: true, nameRank: LexiconWriter.NameRank.sourcePreferred)
                }
            }
            for symptom in module.symptoms where symptomConcept[symptom] == nil {
                let cui = writer.concept(named: symptom) ?? "SYNTHEA:symptom:" + symptom.lowercased()
                if writer.hasConcept(cui) { joined += 1 } else { added += 1 }
                symptomConcept[symptom] = cui
                try writer.addTerm(cui: cui, text: symptom, source: Self.source, termType: "SY", code: nil, isPreferred: false,
                                   nameRank: LexiconWriter.NameRank.other)
            }
        }
        counts["conceptsAdded"] = added
        counts["conceptsJoined"] = joined
    }

    mutating func importFacts(into writer: LexiconWriter) throws {
        var seen = Set<String>()
        func state(_ subject: String, _ predicate: String, _ object: String) throws {
            guard subject != object, seen.insert("\(subject)\u{0}\(predicate)\u{0}\(object)").inserted else { return }
            try writer.addStatement(subject: subject, predicate: predicate, object: object, rel: "RO", inverseRel: "RO", source: Self.source)
            counts[predicate, default: 0] += 1
        }
        let sets = conditionSets()
        for module in modules {
            let contexts = (sets[module.key] ?? []).filter { $0.count <= Self.moduleConditionLimit }
            for treatment in module.treatments {
                var conditionSets: [[String]] = []
                if let reason = treatment.reason {
                    let named = (module.conditions[reason] ?? module.attributes[reason] ?? globalAttributes[reason] ?? [])
                        .compactMap { conceptOf[$0] }
                    if !named.isEmpty { conditionSets = [named] }
                }
                if conditionSets.isEmpty { conditionSets = contexts.filter { $0.count <= 3 } }
                let predicate = treatment.kind == "MedicationOrder" ? "may_treat" : "procedure_for"
                for code in treatment.codes {
                    // The ingredient carries the relation, and the clinical drug is one of it.
                    guard let subject = ingredientOf[code] ?? conceptOf[code] else { continue }
                    if let drug = conceptOf[code], drug != subject { try state(drug, "has_ingredient", subject) }
                    for condition in conditionSets.joined() { try state(subject, predicate, condition) }
                }
            }
            for conditions in contexts {
                for test in module.tests { guard let subject = conceptOf[test] else { continue }
                    for condition in conditions { try state(subject, "observed_in", condition) }
                }
                for symptom in module.symptoms { guard let subject = symptomConcept[symptom] else { continue }
                    for condition in conditions { try state(subject, "symptom_of", condition) }
                }
            }
        }
    }

    /// The sets of conditions each module's states serve, by module key: its
    /// own conditions; a module without any (a care module such as
    /// `metabolic_syndrome_care`) serves the conditions its treatments'
    /// reasons name; and a submodule also serves each set of the modules
    /// that call it (`heart/chf_lab_work`'s labs are drawn for heart
    /// failure), transitively. A set is one caller's, so a lab panel called
    /// from many modules relates to each caller's few conditions instead of
    /// failing the focus limit as one large union.
    func conditionSets() -> [String: [[String]]] {
        var sets: [String: [[String]]] = [:]
        for module in modules {
            var own = module.allConditions.compactMap { conceptOf[$0] }
            if own.isEmpty {
                own = module.treatments.compactMap(\.reason).flatMap { reason in
                    (module.attributes[reason] ?? globalAttributes[reason] ?? []).compactMap { conceptOf[$0] }
                }
            }
            var seen = Set<String>()
            own = own.filter { seen.insert($0).inserted }
            sets[module.key] = own.isEmpty ? [] : [own]
        }
        let known = Set(modules.map(\.key))
        var changed = true
        var rounds = 0
        while changed && rounds < 16 {  // submodules nest a few levels; the bound stops a cycle
            changed = false
            rounds += 1
            for module in modules {
                let passed = (sets[module.key] ?? []).filter { $0.count <= Self.moduleConditionLimit }
                for submodule in module.submodules where known.contains(submodule) {
                    for set in passed where !(sets[submodule] ?? []).contains(set) {
                        sets[submodule, default: []].append(set)
                        changed = true
                    }
                }
            }
        }
        return sets
    }
}
