import TGSupport

/// Deterministic test data shared by the SimString and CLI tests.

/// A small deterministic generator (the tool's SplitMix64), so every run
/// tests the same data.
public typealias SeededRandom = SplitMix64

/// Strings and queries like those the matcher sends: lexicon terms, the same
/// terms with 1-3 character edits, random word n-grams, and non-ASCII text.
public enum ParityData {
    static let words = ["acute", "chronic", "renal", "failure", "heart", "disease", "type", "diabetes", "mellitus",
                        "with", "without", "of", "the", "left", "ventricular", "hypertrophy", "pneumonia", "sepsis",
                        "fracture", "femur", "closed", "open", "aa", "a", "oo", "banana", "anemia", "ödem", "straße",
                        "β-blocker", "sjögren", "ménière", "naïve", "café", "x", "zz"]

    public static func term(_ random: inout SeededRandom) -> String {
        (0..<Int.random(in: 1...4, using: &random)).map { _ in words.randomElement(using: &random)! }
            .joined(separator: " ")
    }

    public static func edit(_ text: String, _ random: inout SeededRandom) -> String {
        var characters = Array(text)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let alphabet = Array("abcdeilmnorstuéö -")
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where !characters.isEmpty: characters.remove(at: Int.random(in: 0..<characters.count, using: &random))
            case 1: characters.insert(alphabet.randomElement(using: &random)!,
                                      at: Int.random(in: 0...characters.count, using: &random))
            default:
                if !characters.isEmpty {
                    characters[Int.random(in: 0..<characters.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
            }
        }
        return String(characters)
    }

    public static func make(seed: UInt64, strings: Int, queries: Int) -> (strings: [String], queries: [String]) {
        var random = SeededRandom(seed: seed)
        var indexed = (0..<strings).map { _ in term(&random) }
        indexed += ["", "a", "aa", "aaa", "aaaa", "abab", "ab ab ab"]
        var asked: [String] = []
        for _ in 0..<queries {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: asked.append(indexed.randomElement(using: &random)!)
            case 1: asked.append(edit(indexed.randomElement(using: &random)!, &random))
            case 2: asked.append(term(&random))
            default: asked.append(edit(term(&random), &random))
            }
        }
        asked += ["", "a", "aaaaa", "ab"]
        return (indexed, asked)
    }
}

