/// Sentence boundaries good enough for clinical notes, as token ranges.
///
/// A sentence ends at ".", "!" or "?" followed by a capitalised word, a
/// number or a line break; at a blank line; at a line ending in ":" (a
/// header such as "HISTORY OF PRESENT ILLNESS:") and before such a line;
/// and before a line that starts a list item ("-", "*", "•", "1." or "1)"). Abbreviations keep
/// their period inside the token ("Dr.", "b.i.d.") and decimals are one
/// token, so neither ends a sentence.
public enum SentenceSplitter {
    public static func sentences(_ tokens: [Token]) -> [Range<Int>] {
        var sentences: [Range<Int>] = []
        var start = 0
        for index in tokens.indices {
            let token = tokens[index]
            let next = index + 1 < tokens.count ? tokens[index + 1] : nil
            var ends = next == nil
            if let next {
                if token.lineBreaksAfter >= 2 { ends = true }
                if token.isPunctuation, [".", "!", "?"].contains(token.text),
                   token.lineBreaksAfter > 0 || next.kind == .number || next.text.first?.isUppercase == true {
                    ends = true
                }
                if token.text == ":", token.lineBreaksAfter > 0 { ends = true }
                if token.lineBreaksAfter > 0,
                   startsListItem(tokens, at: index + 1) || lineIsHeader(tokens, from: index + 1) {
                    ends = true
                }
            }
            if ends {
                sentences.append(start..<(index + 1))
                start = index + 1
            }
        }
        return sentences
    }

    /// A short line ending in ":" ("FAMILY HISTORY:", "Plan:").
    private static func lineIsHeader(_ tokens: [Token], from start: Int) -> Bool {
        var index = start
        while index < tokens.count, index - start < 8 {
            if tokens[index].lineBreaksAfter > 0 || index + 1 == tokens.count { return tokens[index].text == ":" }
            index += 1
        }
        return false
    }

    private static func startsListItem(_ tokens: [Token], at index: Int) -> Bool {
        let token = tokens[index]
        if ["-", "*", "•", "·"].contains(token.text) { return true }
        if token.kind == .number, index + 1 < tokens.count, [".", ")"].contains(tokens[index + 1].text) { return true }
        return false
    }
}
