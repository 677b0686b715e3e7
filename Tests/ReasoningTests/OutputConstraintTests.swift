import Testing
@testable import Reasoning

@Suite struct OutputConstraintTests {
    @Test func theGrammarListsTheTargetsAsFinalResults() {
        let grammar = OutputConstraint.sections.grammar(targets: ["Sodium", "Say \"hi\"\\"])
        let root = grammar.split(separator: "\n")[0]
        // The headers in order, then each target as a quoted GBNF literal.
        #expect(root.hasPrefix("root ::= \"## Extraction\\n\" facts \"\\n## Reasoning\\n\" body \"\\n## Final Results\\n\""), "\(root)")
        #expect(root.hasSuffix("\"- \" \"Sodium\" \"\\n\" \"- \" \"Say \\\"hi\\\"\\\\\" \"\\n\""), "\(root)")
        // Extraction lines are facts as the template asks for them.
        #expect(grammar.contains(#"fact ::= "**" [^*\n]{1,120} "**: ""#))
        #expect(OutputConstraint.deepicd.grammar(targets: []).contains("</think><diagnosis>"))
    }
}
