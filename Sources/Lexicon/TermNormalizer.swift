import Foundation

/// The one normalisation applied to every lexicon string, and later to every
/// span of text the matcher looks up. It is recorded in the lexicon manifest,
/// because a matcher that normalises differently from the build finds nothing.
///
/// Steps, in order: optional ASCII transliteration (compatibility
/// decomposition, combining marks dropped, a table for letters and symbols
/// that do not decompose, e.g. `ß`→`ss`, `β`→`beta`, `–`→`-`; anything else
/// non-ASCII dropped), optional lowercasing, then runs of white space folded
/// to one space and trimmed at both ends.
public struct TermNormalizer: Codable, Sendable, Equatable, Hashable {
    /// Bumped whenever the output of `normalize` changes for some input.
    public static let algorithmVersion = 1

    public var lowercase: Bool
    public var asciiTransliteration: Bool

    public init(lowercase: Bool = true, asciiTransliteration: Bool = false) {
        self.lowercase = lowercase
        self.asciiTransliteration = asciiTransliteration
    }

    public func normalize(_ text: String) -> String {
        if let ascii = normalizeASCII(text) { return ascii }
        var working = text
        if asciiTransliteration {
            working = Self.transliterate(text)
            if let ascii = normalizeASCII(working) { return ascii }
        }
        if lowercase { working = working.lowercased() }
        return Self.foldWhitespace(working)
    }

    /// Fast path for pure-ASCII input: one pass over the bytes.
    private func normalizeASCII(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            var output = [UInt8]()
            output.reserveCapacity(bytes.count)
            var pendingSpace = false
            for byte in bytes {
                if byte >= 0x80 { return nil }
                if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) {
                    pendingSpace = !output.isEmpty
                    continue
                }
                if pendingSpace {
                    output.append(0x20)
                    pendingSpace = false
                }
                if lowercase, byte >= 0x41, byte <= 0x5A {
                    output.append(byte + 0x20)
                } else {
                    output.append(byte)
                }
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    private static func foldWhitespace(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace {
                output.append(" ")
                pendingSpace = false
            }
            output.append(scalar)
        }
        return String(output)
    }

    static func transliterate(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCompatibilityMapping.unicodeScalars {
            if scalar.isASCII {
                output.append(scalar)
            } else if let replacement = transliterations[scalar] {
                output.append(contentsOf: replacement.unicodeScalars)
            } else if scalar.properties.isWhitespace {
                output.append(" ")
            }
            // Combining marks and symbols without an ASCII reading are dropped.
        }
        return String(output)
    }

    /// Letters and symbols that compatibility decomposition leaves non-ASCII.
    /// Greek letters are spelled out because clinical text uses them as words
    /// ("β-blocker" should meet "beta-blocker").
    static let transliterations: [Unicode.Scalar: String] = {
        var table: [Unicode.Scalar: String] = [
            "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
            "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ı": "i",
            "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "⁄": "/",
            "‘": "'", "’": "'", "‚": "'", "′": "'", "“": "\"", "”": "\"", "„": "\"", "″": "\"",
            "×": "x", "÷": "/", "±": "+/-", "≤": "<=", "≥": ">=", "°": "deg", "·": ".", "•": "*", "…": "...",
        ]
        let greek: [(String, String)] = [
            ("α", "alpha"), ("β", "beta"), ("γ", "gamma"), ("δ", "delta"), ("ε", "epsilon"), ("ζ", "zeta"),
            ("η", "eta"), ("θ", "theta"), ("ι", "iota"), ("κ", "kappa"), ("λ", "lambda"), ("μ", "mu"),
            ("ν", "nu"), ("ξ", "xi"), ("ο", "omicron"), ("π", "pi"), ("ρ", "rho"), ("σ", "sigma"), ("ς", "sigma"),
            ("τ", "tau"), ("υ", "upsilon"), ("φ", "phi"), ("χ", "chi"), ("ψ", "psi"), ("ω", "omega"),
        ]
        for (lower, name) in greek {
            let scalar = lower.unicodeScalars.first!
            table[scalar] = name
            let upper = lower.uppercased()
            if let upperScalar = upper.unicodeScalars.first, upper.unicodeScalars.count == 1, upperScalar != scalar {
                table[upperScalar] = name.prefix(1).uppercased() + name.dropFirst()
            }
        }
        return table
    }()
}
