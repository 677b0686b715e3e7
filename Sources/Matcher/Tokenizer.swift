/// A token of clinical text. Offsets count Unicode scalars from the start of
/// the document (as Python's `str` indexes do, so they line up with
/// QuickUMLS's and most NLP tools' character offsets).
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Letters, possibly with digits, internal periods ("b.i.d.") or an
        /// internal apostrophe.
        case word
        /// Digits, possibly with a decimal point or separators ("2.5", "1,000").
        case number
        /// One punctuation or symbol character.
        case punctuation
    }

    public var text: String
    public var start: Int
    public var end: Int
    public var kind: Kind
    /// Whether white space follows the token (for rebuilding span text).
    public var spaceAfter: Bool
    /// Line breaks between this token and the next.
    public var lineBreaksAfter: Int

    public var isPunctuation: Bool { kind == .punctuation }
    public var isBracket: Bool {
        // On the scalars: `String.contains` with a string argument goes
        // through NSString's search, 1.6 % of a match run.
        kind == .punctuation && text.unicodeScalars.count == 1 && "()[]{}".unicodeScalars.contains(text.unicodeScalars.first!)
    }
    public var isDash: Bool { kind == .punctuation && text.unicodeScalars.first.map(Tokenizer.dashes.contains) == true }
    /// Numbers and number words ("two", "ten").
    public var likeNumber: Bool { kind == .number || Tokenizer.numberWords.contains(text.lowercased()) }
    public var length: Int { end - start }
}

/// Splits clinical text into tokens: words, numbers and single punctuation
/// characters, the way an English tokenizer such as spaCy's does for the
/// cases that matter to matching: hyphens and slashes between words are
/// tokens of their own ("non-small" → non, -, small), a possessive "'s" is
/// split off, abbreviations with internal periods stay whole ("b.i.d.",
/// "e.g."), decimals and thousands stay whole ("2.5", "1,000"), and a final
/// period is split from a word unless the word is a known abbreviation
/// ("Dr.", "vs.").
public enum Tokenizer {
    /// The dashes QuickUMLS lets a span cross (U+002D, U+2010 ... U+2015, minus signs, ...).
    static let dashes: Set<Unicode.Scalar> = Set([
        0x2D, 0x7E, 0xAD, 0x58A, 0x5BE, 0x1400, 0x1806, 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2053,
        0x207B, 0x208B, 0x2212, 0x2E17, 0x2E3A, 0x2E3B, 0x301C, 0x3030, 0x30A0, 0xFE31, 0xFE32, 0xFE58, 0xFE63, 0xFF0D,
    ].compactMap(Unicode.Scalar.init))

    static let numberWords: Set<String> = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
        "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million", "billion",
    ]

    /// Words that keep their final period.
    static let abbreviations: Set<String> = [
        "dr", "mr", "mrs", "ms", "st", "vs", "pt", "pts", "approx", "appt", "dept", "fig", "hx", "dx", "tx",
        "rx", "sx", "fx", "yo", "y.o", "mg", "mcg", "ml", "cc", "hr", "hrs", "min", "mins", "sec", "wk", "wks",
        "mo", "mos", "yr", "yrs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "inc", "ltd", "jr", "sr", "etc", "al", "resp", "temp", "prn", "q", "qd", "bid", "tid", "qid", "qhs",
    ]

    public static func tokenize(_ text: String) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        let count = scalars.count

        // ASCII answered from the code point; Unicode's property tables
        // (a lookup per character) only for the rest.
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            if scalar.isASCII { return isASCIILetter(scalar) || isDigit(scalar) }
            return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
        }
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { scalar.isASCII ? isASCIILetter(scalar) : scalar.properties.isAlphabetic }
        func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII ? scalar == " " || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
        }

        while index < count {
            let scalar = scalars[index]
            if isWhitespace(scalar) {
                if let last = tokens.indices.last {
                    tokens[last].spaceAfter = true
                    if scalar == "\n" { tokens[last].lineBreaksAfter += 1 }
                }
                index += 1
                continue
            }
            let start = index
            if isAlphanumeric(scalar) {
                // A run of letters and digits, with internal '.', ',' (numbers)
                // and apostrophes kept where they sit between alphanumerics.
                var end = index + 1
                var sawLetter = isLetter(scalar)
                var sawDigit = isDigit(scalar)
                var sawPeriod = false, sawApostrophe = false
                while end < count {
                    let next = scalars[end]
                    if isAlphanumeric(next) {
                        sawLetter = sawLetter || isLetter(next)
                        sawDigit = sawDigit || isDigit(next)
                        end += 1
                        continue
                    }
                    let follows = end + 1 < count && isAlphanumeric(scalars[end + 1])
                    if next == "'" || next == "’", follows, sawLetter {
                        sawApostrophe = true
                        end += 1
                        continue
                    }
                    if next == ".", follows {
                        sawPeriod = true
                        end += 1
                        continue
                    }
                    if next == ",", follows, sawDigit, !sawLetter, isDigit(scalars[end + 1]) {
                        end += 1
                        continue
                    }
                    break
                }
                var word = makeString(scalars[start..<end])
                // Keep a final period on abbreviations: "b.i.d.", "e.g.", "Dr.".
                if end < count, scalars[end] == ".",
                   (sawPeriod && sawLetter && !sawDigit) || abbreviations.contains(word.lowercased()) {
                    end += 1
                    word += "."
                }
                // Possessive: "patient's" → "patient", "'s".
                if sawApostrophe, let apostrophe = word.firstIndex(where: { $0 == "'" || $0 == "’" }), word.hasSuffix("s"),
                   word.distance(from: apostrophe, to: word.endIndex) == 2, apostrophe != word.startIndex {
                    let stemLength = word.unicodeScalars.count - 2
                    tokens.append(Token(text: String(word.prefix(upTo: apostrophe)), start: start, end: start + stemLength,
                                        kind: .word, spaceAfter: false, lineBreaksAfter: 0))
                    tokens.append(Token(text: String(word[apostrophe...]), start: start + stemLength, end: end,
                                        kind: .word, spaceAfter: false, lineBreaksAfter: 0))
                } else {
                    let isNumber = sawDigit && !sawLetter
                    tokens.append(Token(text: word, start: start, end: end, kind: isNumber ? .number : .word,
                                        spaceAfter: false, lineBreaksAfter: 0))
                }
                index = end
                continue
            }
            // Apostrophe words split by the rule above never reach here; any
            // other character is one punctuation token.
            tokens.append(Token(text: String(scalar), start: start, end: start + 1, kind: .punctuation,
                                spaceAfter: false, lineBreaksAfter: 0))
            index += 1
        }
        return tokens
    }

    /// The scalars as a string, encoded straight into its storage (through
    /// `String.UnicodeScalarView` a scalar at a time it was a tenth of the
    /// tokenizer's time).
    static func makeString(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        let capacity = scalars.reduce(0) { $0 + UTF8.width($1) }
        return String(unsafeUninitializedCapacity: capacity) { buffer in
            var position = 0
            for scalar in scalars {
                if scalar.isASCII {
                    buffer[position] = UInt8(truncatingIfNeeded: scalar.value)
                    position += 1
                } else {
                    UTF8.encode(scalar) { unit in
                        buffer[position] = unit
                        position += 1
                    }
                }
            }
            return position
        }
    }
}
