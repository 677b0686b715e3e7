/// One concept found in a document.
public struct Mention: Sendable, Equatable, Codable {
    /// Unicode-scalar offsets of the matched span, end exclusive.
    public var start: Int
    public var end: Int
    /// The span's text as written.
    public var ngram: String
    /// The lexicon string it matched (normalised).
    public var term: String
    public var cui: String
    public var similarity: Double
    public var semtypes: [String]
    /// The matched string is a preferred name of the concept.
    public var preferred: Bool
    /// The concept's preferred name.
    public var preferredName: String
    public var context: MentionContext
}

/// What the text around a mention says about it (NegEx / ConText style).
public struct MentionContext: Sendable, Equatable, Codable {
    /// "no seizures", "denies chest pain", "ruled out for MI".
    public var negated = false
    /// "if fever develops", "rule out pneumonia", "may have".
    public var hypothetical = false
    /// "history of stroke", "status post appendectomy".
    public var historical = false
    /// "mother had breast cancer", "FAMILY HISTORY: ...".
    public var family = false

    public init(negated: Bool = false, hypothetical: Bool = false, historical: Bool = false, family: Bool = false) {
        self.negated = negated
        self.hypothetical = hypothetical
        self.historical = historical
        self.family = family
    }
}
