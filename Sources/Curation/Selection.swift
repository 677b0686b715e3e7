import Foundation
import TGSupport

/// Which examples a curator looks at: named ids, or a seeded random draw
/// (or the longest paths) among the samples of a task that pass a filter.
public struct Selection: Sendable {
    /// Filters of `--where`.
    public enum Filter: String, CaseIterable, Sendable {
        case graph, noGraph = "no-graph", noPath = "no-path", rejected, kept, answered, tooLong = "too-long", failed
        case longestPaths = "longest-paths"

        func accepts(_ example: Example) -> Bool {
            switch self {
            case .graph, .longestPaths: return example.evidenceStatus == "graph"
            case .noGraph: return example.evidenceStatus != nil && example.evidenceStatus != "graph"
            case .noPath: return example.evidenceStatus == "no_path"
            case .rejected: return example.isRejected
            case .kept: return example.isKept
            case .answered: return !example.chains.isEmpty
            case .tooLong: return example.reasoningStatus == "too_long"
            case .failed: return example.reasoningStatus == "failed"
            }
        }

        /// Accepts "no graph" as well as "no-graph".
        public init?(name: String) {
            self.init(rawValue: name.lowercased().replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: "_", with: "-"))
        }
    }

    public var task: String?
    public var filters: [Filter] = []
    public var count = 5
    public var seed: UInt64 = 0

    public init(task: String? = nil, filters: [Filter] = [], count: Int = 5, seed: UInt64 = 0) {
        self.task = task
        self.filters = filters
        self.count = count
        self.seed = seed
    }

    /// The chosen ids: with `longest-paths`, the samples with the longest
    /// paths (ties by id); otherwise the `count` with the smallest seeded
    /// hash, so the same seed draws the same examples. Returned in the
    /// order of the draw.
    public func choose(in view: RunView) throws -> [String] {
        var candidates: [(id: String, longest: Int)] = []
        for id in view.sampleIDs {
            if let task, try view.task(of: id) != task { continue }
            if filters.isEmpty {
                candidates.append((id, 0))
                continue
            }
            let example = try view.example(id, complete: false)
            if filters.allSatisfy({ $0.accepts(example) }) { candidates.append((id, example.longestPath)) }
        }
        if filters.contains(.longestPaths) {
            return candidates.sorted { ($0.longest, $1.id) > ($1.longest, $0.id) }.prefix(count).map(\.id)
        }
        let keyed = candidates.map { (StableHash.of("\(seed):\($0.id)"), $0.id) }
        return keyed.sorted { $0 < $1 }.prefix(count).map(\.1)
    }
}
