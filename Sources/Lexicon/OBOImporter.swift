import TGSupport

/// Imports an OBO ontology such as the Human Phenotype Ontology.
///
/// Each live term becomes a concept: the UMLS concept that already carries
/// the term's id as a code if UMLS was imported, else its first `UMLS:` xref,
/// else its own id (`HP:0001250`). The name and synonyms become terms (the
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
        let stem = (document.ontology ?? "")
            .replacingOccurrences(of: ".obo", with: "")
            .lowercased()
        let fallback = document.terms.first.map { String($0.id.prefix { $0 != ":" }) } ?? "OBO"
        source = Self.knownSources[stem] ?? (stem.isEmpty ? fallback : stem).uppercased()
    }

    mutating func importConcepts(into writer: LexiconWriter) throws {
        var live = 0, obsolete = 0, mergedWithUMLS = 0, unnamed = 0
        for term in document.terms {
            if term.isObsolete { obsolete += 1; continue }
            guard let name = term.name else { unnamed += 1; continue }
            let umlsXref = term.xrefs.first { $0.hasPrefix("UMLS:") }.map { String($0.dropFirst(5)) }
            let cui = writer.concept(forCode: term.id, in: source) ?? umlsXref ?? term.id
            if writer.hasConcept(cui) { mergedWithUMLS += 1 }
            conceptOfTerm[term.id] = cui
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
            for xref in term.xrefs where xref != "UMLS:" + cui {
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
}
