import Foundation
import TGSupport

/// A structure a local server is made to follow while it writes (llama.cpp's
/// GBNF `grammar`): a small model that cannot keep a format by itself then
/// writes the template's sections every time. The model still writes every
/// word of the extraction and the reasoning.
public enum OutputConstraint: String, Sendable, CaseIterable {
    /// `## Extraction` (each line a fact as the template asks: `**Event
    /// Name [Event Time]**: ...`), `## Reasoning` (free lines, none a header
    /// nor a `[placeholder]`, which small models copy from the prompt) and
    /// `## Final Results` listing the target items, one per line, spelled as
    /// the ground truth spells them (the reference asks for exactly that).
    case sections
    /// `<think>...</think><diagnosis>CODE</diagnosis>` with an ICD-10-CM
    /// shaped code (DeepICD-R1's format).
    case deepicd

    /// The answer format a template must have for this constraint.
    public var format: AnswerFormat { self == .sections ? .sections : .deepicd }

    /// Lines of free text a section may hold, and the longest line.
    static let linesPerSection = 12
    static let lineLength = 300

    /// The grammar for one sample.
    public func grammar(targets: [String]) -> String {
        switch self {
        case .sections:
            let items = targets.isEmpty ? "line" : targets.map { "\"- \" " + Self.literal($0) + " \"\\n\"" }.joined(separator: " ")
            return """
                root ::= "## Extraction\\n" facts "\\n## Reasoning\\n" body "\\n## Final Results\\n" \(items)
                facts ::= fact{1,\(Self.linesPerSection)}
                fact ::= "**" [^*\\n]{1,120} "**: " [^\\n]{0,\(Self.lineLength)} "\\n"
                body ::= line{1,\(Self.linesPerSection)}
                line ::= [^#\\[\\n] [^\\n]{0,\(Self.lineLength)} "\\n"
                """
        case .deepicd:
            return """
                root ::= "<think>" [^<]{1,4000} "</think><diagnosis>" code "</diagnosis>"
                code ::= [A-Z] [0-9] [0-9A-Z] ("." [0-9A-Z]{1,4})?
                """
        }
    }

    /// A GBNF string literal: quotes, backslashes and line breaks escaped.
    static func literal(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// The server refused the constraint: every request would be refused too.
public struct ConstraintRefused: Error, CustomStringConvertible, Sendable {
    public var host: String
    public var message: String
    public var description: String {
        "the server at \(host) refused the output grammar (\(message)); --constrain needs a server that takes llama.cpp's "
            + "GBNF `grammar` field (llama.cpp's server does); run without --constrain for others"
    }
}
