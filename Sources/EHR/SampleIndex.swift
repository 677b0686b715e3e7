import Foundation
import TGSupport

/// Writes the sample index of a timeline file (`samples.jsonl`): every
/// candidate that passes the task's rules, then, for tasks with a quota,
/// a seeded draw of at most that many per split.
///
/// The timeline is read once: every candidate goes, in timeline order, to
/// a spill file beside the output. Only when a task has more candidates
/// than its quota is the spill read again to draw, keeping line numbers
/// (a few bytes per kept sample); a last read copies the kept lines. Memory
/// holds one patient and the draws' line numbers, never the samples.
/// `uniform` and `weighted` draws give each candidate a key from a seeded
/// hash of its id (weighted: u^(1/w) with w the inverse of the mean
/// frequency of its target items over the task, Efraimidis and Spirakis's
/// A-Res) and keep the largest keys, so the draw does not depend on the
/// order of the file or on other tasks. `balanced` shares the quota evenly over labels (a sample's first
/// target item; "water filling": labels with fewer samples than their
/// share keep all of them and pass the rest on) and keeps each label's
/// share by seeded reservoir sampling. Memory holds the kept samples of the
/// tasks that are drawn, at most the quotas' sum.
public struct SampleIndex {
    public var builder: SampleBuilder
    /// Task name → most samples per split (nil: no cap); overrides the
    /// task file's quotas when given.
    public var caps: [String: Int]

    public init(builder: SampleBuilder, caps: [String: Int]? = nil) {
        self.builder = builder
        self.caps = caps ?? Dictionary(uniqueKeysWithValues: builder.tasks.compactMap { task in task.quota.map { (task.name, $0) } })
    }

    public struct Counts: Sendable {
        /// Task → (train, test) written.
        public var byTask: [String: (train: Int, test: Int)] = [:]
        /// Task → candidates that passed the rules, before quotas.
        public var available: [String: Int] = [:]
        /// Task → rule → candidates removed by it.
        public var removed: SampleBuilder.Removals = [:]
        public var patients = 0
        public var total: Int { byTask.values.reduce(0) { $0 + $1.train + $1.test } }

        public var json: JSONValue {
            .object(byTask.keys.sorted().map { task in
                let counts = byTask[task]!
                let rules = removed[task] ?? [:]
                return (task, .object([("train", .integer(Int64(counts.train))), ("test", .integer(Int64(counts.test))),
                                       ("available", .integer(Int64(available[task] ?? 0))),
                                       ("removed", .object(SampleRule.allCases.map { ($0.rawValue, .integer(Int64(rules[$0] ?? 0))) }))]))
            })
        }
    }

    struct GroupKey: Hashable {
        var task: String
        var split: Split
        var label: String
    }

    struct TaskSplit: Hashable {
        var task: String
        var split: Split
    }

    public func write(patients path: String, to output: JSONLinesWriter) throws -> Counts {
        var counts = Counts()
        for task in builder.tasks { counts.byTask[task.name] = (0, 0) }
        let byName = Dictionary(uniqueKeysWithValues: builder.tasks.map { ($0.name, $0) })
        func sampling(_ task: String) -> TaskDefinition.Sampling { byName[task]?.sampling ?? .uniform }

        // Pass 1 over the timelines: every candidate, in timeline order, to
        // a spill file beside the output; what the draws need is counted.
        let slash = output.path.lastIndex(of: "/")
        let spillPath = (slash.map { String(output.path[...$0]) } ?? "") + "."
            + (slash.map { String(output.path[output.path.index(after: $0)...]) } ?? output.path) + ".candidates-\(Debris.tag)"
        let spill = try JSONLinesWriter(path: spillPath)
        defer { unlink(spillPath) }
        var candidates: [TaskSplit: Int] = [:]
        var everyGroup: [TaskSplit: Int] = [:]
        var labelSizes: [GroupKey: Int] = [:]
        var frequencies: [String: [String: Int]] = [:]
        var lines = 0
        let reader = try TimelineReader(path: path)
        while let patient = try reader.next() {
            counts.patients += 1
            for sample in builder.samples(for: patient, removed: &counts.removed) {
                counts.available[sample.task, default: 0] += 1
                try spill.writeLine(sample.json)
                lines += 1
                everyGroup[TaskSplit(task: sample.task, split: sample.split), default: 0] += 1
                guard caps[sample.task] != nil else { continue }
                candidates[TaskSplit(task: sample.task, split: sample.split), default: 0] += 1
                switch sampling(sample.task) {
                case .uniform: break
                case .balanced: labelSizes[GroupKey(task: sample.task, split: sample.split, label: sample.targets[0]), default: 0] += 1
                case .weighted: for target in sample.targets { frequencies[sample.task, default: [:]][target, default: 0] += 1 }
                }
            }
        }
        try spill.commit()
        let drawn = Set(candidates.filter { $0.value > caps[$0.key.task]! }.keys)

        // Pass 2 over the candidates, only when some task has more than its
        // quota: the draw keeps line numbers (a few bytes each).
        var kept: [Bool]?
        if !drawn.isEmpty {
            var keep = Array(repeating: true, count: lines)
            let quotas = Self.quotas(sizes: labelSizes.filter { drawn.contains(TaskSplit(task: $0.key.task, split: $0.key.split)) },
                                     caps: caps)
            var reservoirs: [GroupKey: Reservoir] = [:]
            var draws: [TaskSplit: TopKeys] = [:]
            let candidatesReader = try LineReader(path: spillPath)
            var line = 0
            while let bytes = try candidatesReader.nextLine() {
                defer { line += 1 }
                let value = try JSONValue.parse(bytes)
                guard let task = value["task"]?.stringValue, let split = value["split"]?.stringValue.flatMap(Split.init(rawValue:)),
                      drawn.contains(TaskSplit(task: task, split: split)) else { continue }
                keep[line] = false
                let id = value["id"]?.stringValue ?? ""
                let targets = value["targets"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let group = TaskSplit(task: task, split: split)
                switch sampling(task) {
                case .balanced:
                    let key = GroupKey(task: task, split: split, label: targets.first ?? "")
                    let quota = quotas[key] ?? 0
                    guard quota > 0 else { continue }
                    reservoirs[key, default: Reservoir(capacity: quota,
                                                       seed: StableHash.of("\(builder.seed)\u{0}\(key.task)\u{0}\(key.split)\u{0}\(key.label)"))]
                        .offer(line)
                case .uniform:
                    draws[group, default: TopKeys(capacity: caps[task]!)].offer(key: drawKey(id, weight: 1), line: line, id: id)
                case .weighted:
                    let table = frequencies[task] ?? [:]
                    let mean = Double(targets.reduce(0) { $0 + (table[$1] ?? 1) }) / Double(max(1, targets.count))
                    draws[group, default: TopKeys(capacity: caps[task]!)].offer(key: drawKey(id, weight: 1 / max(mean, 1)), line: line, id: id)
                }
            }
            for line in reservoirs.values.flatMap(\.kept) + draws.values.flatMap(\.kept) { keep[line] = true }
            kept = keep
        }

        // Pass 3: the kept candidates, in timeline order.
        let copy = try LineReader(path: spillPath)
        var line = 0
        while let bytes = try copy.nextLine() {
            defer { line += 1 }
            guard kept?[line] ?? true else { continue }
            try output.writeLine(bytes: bytes)
        }
        // A drawn group keeps exactly its quota; the others keep all.
        for (group, total) in everyGroup {
            let written = drawn.contains(group) ? caps[group.task]! : total
            var entry = counts.byTask[group.task] ?? (0, 0)
            if group.split == .train { entry.train += written } else { entry.test += written }
            counts.byTask[group.task] = entry
        }
        for task in builder.tasks {
            let written = counts.byTask[task.name].map { $0.train + $0.test } ?? 0
            let notDrawn = (counts.available[task.name] ?? 0) - written
            if notDrawn > 0 { counts.removed[task.name, default: [:]][.quota] = notDrawn }
        }
        return counts
    }

    /// log(u) / w for a seeded uniform u in (0, 1) of the sample's id: the
    /// largest keys are an A-Res weighted sample.
    func drawKey(_ id: String, weight: Double) -> Double {
        let hash = StableHash.of("\(builder.seed)\u{0}draw\u{0}\(id)")
        let unit = (Double(hash >> 11) + 0.5) / Double(1 << 53)
        return log(unit) / weight
    }

    /// Shares each (task, split)'s cap over its labels: every label gets an
    /// equal share, capped at what it has; what a small label cannot use
    /// goes to the others. Ties in the remainder go to labels in name order.
    static func quotas(sizes: [GroupKey: Int], caps: [String: Int]) -> [GroupKey: Int] {
        var quotas: [GroupKey: Int] = [:]
        let groups = Dictionary(grouping: sizes.keys) { "\($0.task)\u{0}\($0.split.rawValue)" }
        for keys in groups.values {
            guard let cap = caps[keys[0].task] else { continue }
            var remaining = cap
            var open = keys.sorted { (sizes[$0]!, $0.label) < (sizes[$1]!, $1.label) }
            while !open.isEmpty, remaining > 0 {
                let share = remaining / open.count
                let smallest = open[0]
                if sizes[smallest]! <= share {
                    quotas[smallest] = sizes[smallest]!
                    remaining -= sizes[smallest]!
                    open.removeFirst()
                    continue
                }
                // Every open label can take its share; the remainder goes
                // one each to labels in name order.
                let extra = remaining - share * open.count
                for (position, key) in open.sorted(by: { $0.label < $1.label }).enumerated() {
                    quotas[key] = share + (position < extra ? 1 : 0)
                }
                remaining = 0
                open.removeAll()
            }
        }
        return quotas
    }

    /// Uniform sampling of a fixed number of items (line numbers) from a
    /// stream, with a seeded generator (Algorithm R).
    struct Reservoir {
        let capacity: Int
        var generator: SplitMix64
        var seen = 0
        var kept: [Int] = []

        init(capacity: Int, seed: UInt64) {
            self.capacity = capacity
            generator = SplitMix64(seed: seed)
        }

        mutating func offer(_ line: Int) {
            seen += 1
            if kept.count < capacity {
                kept.append(line)
            } else {
                let slot = Int(generator.next() % UInt64(seen))
                if slot < capacity { kept[slot] = line }
            }
        }
    }

    /// The `capacity` entries with the largest keys seen (a binary min-heap
    /// on the key; ties broken by sample id so the result is a function of
    /// the keys alone).
    struct TopKeys {
        let capacity: Int
        var heap: [(key: Double, line: Int, id: String)] = []

        init(capacity: Int) { self.capacity = capacity }

        var kept: [Int] { heap.map(\.line) }

        private func less(_ a: Int, _ b: Int) -> Bool {
            heap[a].key != heap[b].key ? heap[a].key < heap[b].key : heap[a].id > heap[b].id
        }

        mutating func offer(key: Double, line: Int, id: String) {
            if heap.count < capacity {
                heap.append((key, line, id))
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard less(child, parent) else { break }
                    heap.swapAt(child, parent)
                    child = parent
                }
                return
            }
            let smallest = heap[0]
            guard key > smallest.key || (key == smallest.key && id < smallest.id) else { return }
            heap[0] = (key, line, id)
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var least = parent
                if left < heap.count, less(left, least) { least = left }
                if right < heap.count, less(right, least) { least = right }
                guard least != parent else { break }
                heap.swapAt(parent, least)
                parent = least
            }
        }
    }
}
