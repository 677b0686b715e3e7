import Foundation
import Runtime
import TGSupport

/// Everything a curator needs to judge one reasoning example: the sample,
/// the context the model read, the evidence behind it and the chains with
/// their verdicts. Stages not run yet leave their parts empty (nil status).
public struct Example: Sendable {
    public var id: String
    public var task: String
    public var instruction: String
    public var targets: [String]
    /// The rendered context: as sent to the model when it was asked, else
    /// rendered now under the default budget.
    public var context: String
    /// graph, no_path or no_pairs; nil before the evidence stage.
    public var evidenceStatus: String?
    public var pairs: [ConceptPair]
    public var paths: [RelationPath]
    /// ok, partial, failed, too_long, skipped; nil before the reason stage.
    public var reasoningStatus: String?
    public var reasoningError: String?
    public var model: String?
    /// Knowledge paths left out to fit the model's context.
    public var droppedPaths: Int
    public var chains: [Chain]

    /// Concept id → name for the concepts of the pairs and paths: as the
    /// paths name them, else as extraction linked them in this patient.
    public var names: [String: String] = [:]

    /// The longest path, in hops (0 without paths).
    public var longestPath: Int { paths.map(\.hops).max() ?? 0 }
    /// Answered and judged, and no chain kept.
    public var isRejected: Bool { !chains.isEmpty && chains.allSatisfy { $0.kept == false } }
    public var isKept: Bool { chains.contains { $0.kept == true } }
}

/// A target/history concept pair of the evidence stage.
public typealias ConceptPair = EvidenceRecord.Pair

/// A relation path from a target concept to a history concept.
public typealias RelationPath = EvidenceRecord.Path

/// One completion and what the filter said of it.
public struct Chain: Sendable, Equatable {
    public var text: String
    public var finishReason: String
    /// nil when the filter has not judged it.
    public var kept: Bool?
    public var reasons: [String]
    public var coverage: Double?
    /// What its cited events and quoted values stand on (filter's grounding).
    public var grounding: Grounding?

    /// The events the chain cites in its extraction lines
    /// (`**Event Name [time]**: ...`), as (name, time) with the time as
    /// written.
    public var citedEvents: [(name: String, time: String)] {
        var cited: [(String, String)] = []
        for line in text.split(separator: "\n") {
            guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { continue }
            let name = line[..<open].replacingOccurrences(of: "*", with: "").trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "-•0123456789. "))
            let time = line[line.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty && !time.isEmpty { cited.append((name, time)) }
        }
        return cited
    }
}

extension Example {
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("task", .string(task)), ("instruction", .string(instruction)),
            ("targets", .array(targets.map { .string($0) })), ("context", .string(context)),
            ("evidence_status", evidenceStatus.map { .string($0) } ?? .null),
            ("pairs", .array(pairs.map(\.json))),
            ("paths", .array(paths.map(\.json))),
            ("reasoning_status", reasoningStatus.map { .string($0) } ?? .null),
        ]
        if let reasoningError { members.append(("reasoning_error", .string(reasoningError))) }
        if let model { members.append(("model", .string(model))) }
        members.append(("dropped_paths", .integer(Int64(droppedPaths))))
        members.append(("names", .object(names.keys.sorted().map { ($0, .string(names[$0]!)) })))
        members.append(("chains", .array(chains.map { chain in
            var fields: [(String, JSONValue)] = [("text", .string(chain.text)), ("finish_reason", .string(chain.finishReason)),
                                                 ("kept", chain.kept.map { .bool($0) } ?? .null),
                                                 ("reasons", .array(chain.reasons.map { .string($0) }))]
            if let coverage = chain.coverage { fields.append(("coverage", .number(coverage))) }
            return .object(fields)
        })))
        return .object(members)
    }
}
