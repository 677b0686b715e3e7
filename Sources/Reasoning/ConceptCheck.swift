import Foundation
import Matcher
import TGSupport

/// The concepts a chain states about the patient, against what the model
/// was given: a concept its Extraction or Reasoning asserts (found by the
/// concept matcher; negated, hypothetical, family and predicted mentions
/// aside) must be in the sample's context or its knowledge paths. One that
/// only the expected answer holds is reasoning backwards: the chain knows
/// the answer and writes it in as a fact.
///
/// A concept in none of the three (general knowledge: "beta blockers",
/// "the kidneys") says nothing about the patient and is not counted.
public struct ConceptCheck: Sendable {
    public let matcher: ConceptMatcher

    /// `matcher` is the one extraction used (the run's lexicon); its context
    /// rules are extended with `chain-triggers.tsv`, the phrases of
    /// prediction ("likely", "risk of", "suggests") a chain writes.
    public init(matcher: ConceptMatcher) throws {
        var rules = matcher.context
        guard let url = Bundle.module.url(forResource: "chain-triggers", withExtension: "tsv") else {
            throw UsageError("the shipped chain-triggers.tsv is missing from the build")
        }
        rules.append(try ContextRules(contentsOf: url.path))
        self.matcher = ConceptMatcher(index: matcher.index, concepts: matcher.concepts, normalizer: matcher.normalizer,
                                      context: rules, options: matcher.options)
    }

    /// What one sample gave the model, read once for all its completions.
    public struct Given: Sendable {
        /// Concepts of the context and the knowledge paths, and their words.
        var record: Set<String> = []
        var recordWords = ""
        /// Concepts and words of the expected answer.
        var targets: Set<String> = []
        var targetWords = ""
        /// The expected items short enough to be a phrase (a lab's name, a
        /// drug), as lowercase words, with whether the record holds them:
        /// items the lexicon lacks are found by their own words.
        var items: [(words: [String], inRecord: Bool)] = []
    }

    public func given(context: String, knowledge: [String], targets: [String]) throws -> Given {
        var given = Given()
        let record = ([context] + knowledge).joined(separator: "\n")
        given.record = Set(try matcher.match(record).map(\.cui))
        given.recordWords = " " + ChainFilter.normalise(record) + " "
        let expected = targets.joined(separator: "\n")
        given.targets = Set(try matcher.match(expected).map(\.cui))
        given.targetWords = " " + ChainFilter.normalise(expected) + " "
        for target in Set(targets) {
            let words = Self.words(target)
            guard !words.isEmpty, words.count <= 12 else { continue }
            given.items.append((words, given.recordWords.contains(" " + ChainFilter.normalise(target) + " ")))
        }
        return given
    }

    /// Concepts asserted about the patient (in the record or the targets),
    /// how many the record supports, and the others as the chain wrote them.
    public struct Result: Equatable, Sendable {
        public var asserted = 0
        public var supported = 0
        public var backwards: [String] = []
    }

    /// How an unsupported claim of this check ends.
    public static let backwardsMark = "only in the expected answer (reasoning backwards)"

    public func check(claims: String, given: Given) throws -> Result {
        var result = Result()
        let mentions = try matcher.match(claims)
        // Expected items stated in their own words first (a laboratory's
        // LOINC name the lexicon lacks, a drug): the concepts inside such a
        // phrase ("protein", "plasma") are judged with it, not alone.
        var judged = IndexSet()
        var seen = Set<String>()
        if !given.items.isEmpty {
            let tokens = matcher.tokenContexts(claims).filter { !$0.token.isPunctuation }
            let lowered = tokens.map { $0.token.text.lowercased() }
            for item in given.items where item.words.count <= lowered.count {
                let n = item.words.count
                // Every affirmed occurrence, judged once as the item.
                let spans = (0...(lowered.count - n)).filter { start in
                    lowered[start..<(start + n)].elementsEqual(item.words)
                        && !tokens[start..<(start + n)].contains { $0.context.negated || $0.context.hypothetical || $0.context.family }
                }.map { tokens[$0].token.start..<tokens[$0 + n - 1].token.end }
                guard let first = spans.first, !judged.intersects(integersIn: first) else { continue }
                // The concepts these phrases name are judged with them.
                let named = mentions.filter { mention in spans.contains { $0.lowerBound == mention.start && $0.upperBound == mention.end } }
                for span in spans { judged.insert(integersIn: span) }
                seen.formUnion(named.map(\.cui))
                result.asserted += 1
                // In the record by its words, or as the concept the whole phrase names (a synonym there).
                if item.inRecord || named.contains(where: { given.record.contains($0.cui) }) {
                    result.supported += 1
                } else {
                    let scalars = Array(claims.unicodeScalars)[first]
                    result.backwards.append("\(String(String.UnicodeScalarView(scalars))): \(Self.backwardsMark)")
                }
            }
        }
        for mention in mentions {
            let context = mention.context
            guard !context.negated, !context.hypothetical, !context.family, !judged.intersects(integersIn: mention.start..<mention.end),
                  seen.insert(mention.cui).inserted else { continue }
            let words = " " + ChainFilter.normalise(mention.ngram) + " "
            if given.record.contains(mention.cui) || given.recordWords.contains(words) {
                result.asserted += 1
                result.supported += 1
            } else if given.targets.contains(mention.cui) || given.targetWords.contains(words) {
                result.asserted += 1
                result.backwards.append("\(mention.ngram): \(Self.backwardsMark)")
            }
        }
        return result
    }

    /// Lowercase words and numbers of a text, punctuation dropped, as the
    /// matcher's tokenizer splits it.
    static func words(_ text: String) -> [String] {
        Tokenizer.tokenize(text).filter { !$0.isPunctuation }.map { $0.text.lowercased() }
    }
}
