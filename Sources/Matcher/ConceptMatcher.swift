import Lexicon
import SimString

/// Finds lexicon concepts in text by approximate dictionary matching, as
/// QuickUMLS does, over our lexicon and SimString index.
///
/// Candidate spans follow QuickUMLS's rules without a part-of-speech tagger:
/// windows of up to `window` tokens starting at a non-punctuation token; a
/// token that is a number or a stopword (negations excepted) is not matched
/// on its own; a span may not end in punctuation or a stopword, may not
/// cross punctuation other than dashes and brackets, and must reach
/// `minimumMatchLength` characters. Each span is normalised as the lexicon
/// was built, looked up in the SimString index, and its hits expanded to
/// concepts (filtered by semantic type), ranked by similarity, then
/// preferred name. Overlaps are resolved greedily by score (similarity,
/// then length) or by length, unless all matches are asked for.
///
/// Immutable and `Sendable`: share one matcher across threads; each thread
/// passes its own `Session` (or lets `match` make one).
public final class ConceptMatcher: Sendable {
    public struct Options: Sendable {
        public var threshold = 0.7
        public var measure = SimilarityMeasure.jaccard
        public var window = 5
        public var minimumMatchLength = 3
        public enum Overlap: String, Sendable { case score, length }
        public var overlap = Overlap.score
        /// Keep every candidate, overlapping or not.
        public var allMatches = false
        /// Accepted semantic types (nil accepts all).
        public var semanticTypes: Set<String>? = ConceptMatcher.quickUMLSSemanticTypes
        /// Concepts without any semantic type (open vocabularies such as HPO
        /// and ICD-10-CM have none) pass the filter unless this is set.
        public var requireSemanticTypes = false
        /// Apply QuickUMLS's span rules; false matches every token window.
        public var spanRules = true

        public init() {}
    }

    /// QuickUMLS's default accepted semantic types.
    public static let quickUMLSSemanticTypes: Set<String> = [
        "T195", "T029", "T023", "T031", "T201", "T200", "T060", "T047", "T203", "T033", "T058", "T130", "T037",
        "T170", "T034", "T059", "T074", "T048", "T041", "T191", "T040", "T046", "T121", "T067", "T039", "T184", "T061",
    ]

    public let options: Options
    public let index: SimStringIndex
    public let concepts: ConceptTable
    public let normalizer: TermNormalizer
    public let context: ContextRules

    public init(index: SimStringIndex, concepts: ConceptTable, normalizer: TermNormalizer, context: ContextRules,
                options: Options) {
        self.index = index
        self.concepts = concepts
        self.normalizer = normalizer
        self.context = context
        self.options = options
    }

    /// Opens a lexicon's index and concept table.
    public convenience init(lexicon: LexiconStore, context: ContextRules, options: Options) throws {
        try self.init(index: lexicon.openApproximateIndex(), concepts: lexicon.loadConceptTable(),
                      normalizer: lexicon.normalizer, context: context, options: options)
    }

    /// Per-thread state: a SimString searcher and a bounded cache of the
    /// retrievals of recent span strings (see `SpanCache`). Make one per
    /// thread with `makeSession`.
    public struct Session {
        var searcher: SimStringSearcher
        var cache: SpanCache

        init(searcher: SimStringSearcher, cacheLimit: Int) {
            self.searcher = searcher
            cache = SpanCache(limit: cacheLimit)
        }

        /// The matches of a normalised span, given as UTF-8, whose
        /// `SpanCache.hash` is `hash`.
        mutating func search(_ normalized: UnsafeBufferPointer<UInt8>, hash: UInt64, measure: SimilarityMeasure,
                             threshold: Double) throws -> ArraySlice<SimStringMatch> {
            if let cached = cache.matches(for: normalized, hash: hash) { return cached }
            let hits = try searcher.search(bytes: normalized, measure: measure, threshold: threshold)
            cache.insert(normalized, hash: hash, hits)
            return hits[...]
        }
    }

    public func makeSession(cacheLimit: Int = 200_000) -> Session {
        Session(searcher: SimStringSearcher(index: index), cacheLimit: cacheLimit)
    }

    public func match(_ text: String) throws -> [Mention] {
        var session = makeSession(cacheLimit: 1_000)
        return try match(text, session: &session)
    }

    public func match(_ text: String, session: inout Session) throws -> [Mention] {
        let tokens = Tokenizer.tokenize(text)
        guard !tokens.isEmpty else { return [] }
        var groups: [[Mention]] = []
        var spanTokens: [Range<Int>] = []
        let normalizedTokens = NormalizedTokens(tokens, normalizer: normalizer)
        // Every span's normalised key first, with its cache slot fetched
        // ahead; then the lookups.
        let spans = candidateSpans(tokens)
        var keys: [UInt8] = []
        var keyRanges: [Range<Int>] = []
        var hashes: [UInt64] = []
        keyRanges.reserveCapacity(spans.count)
        hashes.reserveCapacity(spans.count)
        for span in spans {
            let start = keys.count
            if !normalizedTokens.appendSpan(span, of: tokens, to: &keys) {
                keys.append(contentsOf: normalizer.normalize(spanText(tokens, span)).utf8)
            }
            keyRanges.append(start..<keys.count)
            let hash = keys.withUnsafeBufferPointer { SpanCache.hash(UnsafeBufferPointer(rebasing: $0[start...])) }
            hashes.append(hash)
            session.cache.prefetch(hash: hash)
        }
        for (position, span) in spans.enumerated() where !keyRanges[position].isEmpty {
            let hits = try keys.withUnsafeBufferPointer {
                try session.search(UnsafeBufferPointer(rebasing: $0[keyRanges[position]]), hash: hashes[position],
                                   measure: options.measure, threshold: options.threshold)
            }
            guard !hits.isEmpty else { continue }
            let ngram = spanText(tokens, span)
            var best: [String: Mention] = [:]
            for hit in hits {
                for entry in concepts.entries(forString: hit.id) {
                    let concept = concepts.concepts[entry.concept]
                    guard accepts(concept.semanticTypes) else { continue }
                    if let existing = best[concept.cui], existing.similarity >= hit.similarity { continue }
                    best[concept.cui] = Mention(
                        start: tokens[span.lowerBound].start, end: tokens[span.upperBound - 1].end, ngram: ngram,
                        term: index.string(of: hit.id), cui: concept.cui, similarity: hit.similarity,
                        semtypes: concept.semanticTypes, preferred: entry.preferred,
                        preferredName: concept.preferredName, context: MentionContext())
                }
            }
            guard !best.isEmpty else { continue }
            groups.append(best.values.sorted { a, b in
                let scoreA = a.similarity + (a.preferred ? 1 : 0), scoreB = b.similarity + (b.preferred ? 1 : 0)
                return scoreA != scoreB ? scoreA > scoreB : a.cui < b.cui
            })
            spanTokens.append(span)
        }
        let selected = options.allMatches ? Array(groups.indices) : selectNonOverlapping(groups)
        let contexts = context.contexts(tokens: tokens, sentences: SentenceSplitter.sentences(tokens))
        var mentions: [Mention] = []
        for group in selected.sorted(by: { (groups[$0][0].start, groups[$0][0].end) < (groups[$1][0].start, groups[$1][0].end) }) {
            let span = spanTokens[group]
            var merged = MentionContext()
            for index in span {
                merged.negated = merged.negated || contexts[index].negated
                merged.hypothetical = merged.hypothetical || contexts[index].hypothetical
                merged.historical = merged.historical || contexts[index].historical
                merged.family = merged.family || contexts[index].family
            }
            for var mention in groups[group] {
                mention.context = merged
                mentions.append(mention)
            }
        }
        return mentions
    }

    /// Every token of `text` with what the context rules say of it, so a
    /// caller that finds phrases by other means (a target's own words)
    /// weighs them as `match` weighs its mentions.
    public func tokenContexts(_ text: String) -> [(token: Token, context: MentionContext)] {
        let tokens = Tokenizer.tokenize(text)
        guard !tokens.isEmpty else { return [] }
        return Array(zip(tokens, context.contexts(tokens: tokens, sentences: SentenceSplitter.sentences(tokens))))
    }

    private func accepts(_ types: [String]) -> Bool {
        guard let accepted = options.semanticTypes else { return true }
        if types.isEmpty { return !options.requireSemanticTypes }
        return types.contains(where: accepted.contains)
    }

    /// Greedy best-match selection: groups by score (top similarity, then
    /// length) or by length (then similarity); a group is kept when its span
    /// overlaps no group kept before it.
    private func selectNonOverlapping(_ groups: [[Mention]]) -> [Int] {
        let order = groups.indices.sorted { a, b in
            let (x, y) = (groups[a][0], groups[b][0])
            let (lengthX, lengthY) = (x.end - x.start, y.end - y.start)
            switch options.overlap {
            case .score:
                if x.similarity != y.similarity { return x.similarity > y.similarity }
                if lengthX != lengthY { return lengthX > lengthY }
            case .length:
                if lengthX != lengthY { return lengthX > lengthY }
                if x.similarity != y.similarity { return x.similarity > y.similarity }
            }
            return x.start < y.start
        }
        // The scalar offsets taken so far, one bit each: a span's check
        // costs its length, not the number of spans kept (a list made a
        // long note's matching quadratic).
        let limit = groups.lazy.map { $0[0].end }.max() ?? 0
        var taken = [UInt64](repeating: 0, count: limit / 64 + 1)
        func isTaken(_ offset: Int) -> Bool { taken[offset >> 6] & (1 << UInt64(offset & 63)) != 0 }
        var kept: [Int] = []
        for group in order {
            let span = groups[group][0].start..<groups[group][0].end
            if span.contains(where: isTaken) { continue }
            kept.append(group)
            for offset in span { taken[offset >> 6] |= 1 << UInt64(offset & 63) }
        }
        return kept
    }

    /// The spans to look up, as token ranges.
    func candidateSpans(_ tokens: [Token]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        let count = tokens.count
        // Each token's part in the rules, worked out once rather than once
        // for every span it ends.
        let stopword = options.spanRules ? tokens.map { Stopwords.english.contains($0.text) } : []
        let barrier = options.spanRules ? tokens.map { $0.isPunctuation && !$0.isDash && !$0.isBracket } : []
        for start in 0..<count {
            let first = tokens[start]
            if options.spanRules {
                if first.isPunctuation { continue }
                // A number or stopword is not matched on its own (negation
                // words are), but may begin a longer span.
                let skipSingle = first.likeNumber || (stopword[start] && !Stopwords.negations.contains(first.text.lowercased()))
                for end in (start + 1)...min(count, start + options.window) {
                    if end == start + 1, skipSingle { continue }
                    let last = tokens[end - 1]
                    if end - 1 > start, barrier[end - 1] { break }
                    if last.isPunctuation || stopword[end - 1] { continue }
                    if tokens[end - 1].end - first.start < options.minimumMatchLength { continue }
                    spans.append(start..<end)
                }
            } else {
                for end in (start + 1)...min(count, start + options.window)
                where tokens[end - 1].end - first.start >= options.minimumMatchLength {
                    spans.append(start..<end)
                }
            }
        }
        return spans
    }

    /// The tokens of a document normalised one by one, where that gives
    /// what normalising a span's whole text gives: ASCII tokens (the
    /// normaliser then works byte by byte, and tokens hold no white space).
    /// Most spans are built from these bytes without a string.
    struct NormalizedTokens {
        private var bytes: [UInt8] = []
        /// Each token's bytes, or nil when it is not ASCII.
        private var ranges: [Range<Int>?] = []

        init(_ tokens: [Token], normalizer: TermNormalizer) {
            ranges.reserveCapacity(tokens.count)
            for token in tokens {
                guard token.text.utf8.allSatisfy({ $0 < 0x80 }) else {
                    ranges.append(nil)
                    continue
                }
                let start = bytes.count
                bytes.append(contentsOf: normalizer.normalize(token.text).utf8)
                ranges.append(start..<bytes.count)
            }
        }

        /// Appends `normalizer.normalize(spanText(tokens, span))` to
        /// `output` and returns true, or returns false (leaving `output`
        /// as it was) when a token of the span is not ASCII.
        func appendSpan(_ span: Range<Int>, of tokens: [Token], to output: inout [UInt8]) -> Bool {
            guard span.allSatisfy({ ranges[$0] != nil }) else { return false }
            for index in span {
                output.append(contentsOf: bytes[ranges[index]!])
                if index + 1 < span.upperBound, tokens[index].spaceAfter { output.append(0x20) }
            }
            return true
        }
    }

    /// The span's text as written, tokens joined by the white space between
    /// them (one space).
    func spanText(_ tokens: [Token], _ span: Range<Int>) -> String {
        var text = ""
        for index in span {
            text += tokens[index].text
            if index + 1 < span.upperBound, tokens[index].spaceAfter { text += " " }
        }
        return text
    }
}
