import TGSupport

/// Imports an OBO ontology such as the Human Phenotype Ontology.
///
/// Each live term becomes a concept: the UMLS concept that already carries
/// the term's id as a code if UMLS was imported, else its first `UMLS:` (HPO)
/// or `UMLS_CUI:` (Disease Ontology) xref, else its own id (`HP:0001250`).
/// Terms of different ontologies that name one CUI are one concept. A
/// term's single exact `ICD10CM:` xref (or `SNOMEDCT_US*:` xref) files that
/// code under the term's concept, so the ICD-10-CM importer (or Synthea's
/// modules) joins it instead of making another concept. The name and synonyms become terms (the
/// synonym scope is kept as the term type), definitions and xrefs are kept,
/// `is_a` becomes a PAR/CHD pair and `relationship:` lines become RO pairs.
/// Obsolete terms are skipped.
struct OBOImporter {
    let document: OBODocument
    let source: String
    private var conceptOfTerm: [String: String] = [:]
    private(set) var counts: [String: Int] = [:]

    /// Source abbreviations UMLS uses for well-known OBO ontologies.
    static let knownSources = ["hp": "HPO", "go": "GO", "mondo": "MONDO", "doid": "DOID", "ordo": "ORDO"]

    init(path: String) throws {
        document = try OBOParser(path: path).parse()
        // "hp", or "doid" of "doid/doid-non-classified.obo".
        let stem = String((document.ontology ?? "")
            .replacingOccurrences(of: ".obo", with: "")
            .lowercased()
            .split(separator: "/").first ?? "")
        let fallback = document.terms.first.map { String($0.id.prefix { $0 != ":" }) } ?? "OBO"
        source = Self.knownSources[stem] ?? (stem.isEmpty ? fallback : stem).uppercased()
    }

    mutating func importConcepts(into writer: LexiconWriter) throws {
        var live = 0, obsolete = 0, mergedWithUMLS = 0, unnamed = 0
        for term in document.terms {
            if term.isObsolete { obsolete += 1; continue }
            guard let name = term.name else { unnamed += 1; continue }
            let umlsXref = term.xrefs.lazy.compactMap(Self.umlsCUI).first
            let cui = writer.concept(forCode: term.id, in: source) ?? umlsXref ?? term.id
            if writer.hasConcept(cui) { mergedWithUMLS += 1 }
            conceptOfTerm[term.id] = cui
            for (prefixes, target) in Self.joinedCodes {
                let codes = term.xrefs.filter { xref in prefixes.contains { xref.hasPrefix($0) } }
                guard codes.count == 1, let colon = codes[0].firstIndex(of: ":") else { continue }
                let code = String(codes[0][codes[0].index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                guard !code.isEmpty, !code.contains("-") else { continue }
                if writer.claim(code: code, in: target, for: cui) { counts[(target == "SNOMEDCT" ? "snomed" : target.lowercased()) + "CodesJoined", default: 0] += 1 }
            }
            try writer.addTerm(cui: cui, text: name, source: source, termType: "PT", code: term.id,
                               isPreferred: true, nameRank: LexiconWriter.NameRank.sourcePreferred)
            for synonym in term.synonyms {
                try writer.addTerm(cui: cui, text: synonym.text, source: source, termType: synonym.scope,
                                   code: term.id, isPreferred: false, nameRank: LexiconWriter.NameRank.other)
            }
            live += 1
        }
        counts["terms"] = document.terms.count
        counts["imported"] = live
        counts["obsolete"] = obsolete
        counts["unnamed"] = unnamed
        counts["mergedWithExistingConcept"] = mergedWithUMLS
    }

    mutating func importFacts(into writer: LexiconWriter) throws {
        var parentLinks = 0, unresolvedParents = 0, relationships = 0
        for term in document.terms {
            guard let cui = conceptOfTerm[term.id] else { continue }
            if let definition = term.definition {
                try writer.addDefinition(cui: cui, source: source, text: definition)
            }
            for xref in term.xrefs where Self.umlsCUI(xref) != cui {
                try writer.addXref(cui: cui, xref: xref)
            }
            for alternative in term.alternativeIDs { try writer.addXref(cui: cui, xref: alternative) }
            if cui != term.id { try writer.addXref(cui: cui, xref: term.id) }
            for parent in term.parents {
                guard let parentCUI = conceptOfTerm[parent] else { unresolvedParents += 1; continue }
                guard parentCUI != cui else { continue }
                try writer.addStatement(subject: cui, predicate: "isa", object: parentCUI,
                                        rel: "PAR", inverseRel: "CHD", source: source)
                parentLinks += 1
            }
            for relationship in term.relationships {
                guard let targetCUI = conceptOfTerm[relationship.target] else { continue }
                try writer.addStatement(subject: cui, predicate: relationship.type, object: targetCUI,
                                        rel: "RO", inverseRel: "RO", source: source)
                relationships += 1
            }
        }
        counts["isA"] = parentLinks
        counts["isAUnresolved"] = unresolvedParents
        counts["relationships"] = relationships
    }

    /// Xref prefixes whose single code a term files under its concept, and
    /// the source that code belongs to: ICD-10-CM and SNOMED CT codes of
    /// patient data, OMIM and Orphanet ids of HPO's disease annotations.
    static let joinedCodes: [([String], String)] = [
        (["ICD10CM:"], "ICD10CM"), (["SNOMEDCT"], "SNOMEDCT"), (["OMIM:", "MIM:"], "OMIM"), (["ORDO:", "Orphanet:", "ORPHA:"], "ORPHA"),
    ]

    /// The CUI of a `UMLS:C0020538` or `UMLS_CUI:C0020538` xref.
    static func umlsCUI(_ xref: String) -> String? {
        for prefix in ["UMLS:", "UMLS_CUI:"] where xref.hasPrefix(prefix) {
            let cui = String(xref.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            return cui.isEmpty ? nil : cui
        }
        return nil
    }
}
