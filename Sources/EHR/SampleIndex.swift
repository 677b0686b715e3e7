import Foundation
import TGSupport

/// Writes the sample index of a timeline file (`samples.jsonl`): every
/// candidate that passes the task's rules, then, for tasks with a quota,
/// a seeded draw of at most that many per split.
///
/// Without quotas the timeline is read once and samples are streamed out.
/// With them it is read twice: first to count candidates per (task, split)
/// and target items per task; the second pass draws. `uniform` and
/// `weighted` draws give each candidate a key from a seeded hash of its id
/// (weighted: u^(1/w) with w the inverse of the mean frequency of its
/// target items, Efraimidis and Spirakis's A-Res) and keep the largest
/// keys, so the draw does not depend on the order of the file or on other
/// tasks. `balanced` shares the quota evenly over labels (a sample's first
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

        // First pass: what the draws need to know.
        var candidates: [TaskSplit: Int] = [:]
        var labelSizes: [GroupKey: Int] = [:]
        var frequencies: [String: [String: Int]] = [:]
        if !caps.isEmpty {
            let reader = try TimelineReader(path: path)
            while let patient = try reader.next() {
                for sample in builder.samples(for: patient) where caps[sample.task] != nil {
                    candidates[TaskSplit(task: sample.task, split: sample.split), default: 0] += 1
                    switch byName[sample.task]?.sampling ?? .uniform {
                    case .balanced: labelSizes[GroupKey(task: sample.task, split: sample.split, label: sample.targets[0]), default: 0] += 1
                    case .weighted: for target in sample.targets { frequencies[sample.task, default: [:]][target, default: 0] += 1 }
                    case .uniform: break
                    }
                }
            }
        }
        let quotas = Self.quotas(sizes: labelSizes, caps: caps)

        var reservoirs: [GroupKey: Reservoir] = [:]
        var draws: [TaskSplit: TopKeys] = [:]
        let reader = try TimelineReader(path: path)
        var ordinal = 0
        while let patient = try reader.next() {
            counts.patients += 1
            for sample in builder.samples(for: patient, removed: &counts.removed) {
                counts.available[sample.task, default: 0] += 1
                let group = TaskSplit(task: sample.task, split: sample.split)
                guard let cap = caps[sample.task], candidates[group, default: 0] > cap else {
                    try output.writeLine(sample.json)
                    count(sample, &counts)
                    continue
                }
                switch byName[sample.task]?.sampling ?? .uniform {
                case .balanced:
                    let key = GroupKey(task: sample.task, split: sample.split, label: sample.targets[0])
                    let quota = quotas[key] ?? 0
                    guard quota > 0 else { continue }
                    reservoirs[key, default: Reservoir(capacity: quota,
                                                       seed: StableHash.of("\(builder.seed)\u{0}\(key.task)\u{0}\(key.split)\u{0}\(key.label)"))]
                        .offer(ordinal: ordinal, sample)
                case .uniform:
                    draws[group, default: TopKeys(capacity: cap)].offer(key: drawKey(sample, weight: 1), ordinal: ordinal, sample)
                case .weighted:
                    let table = frequencies[sample.task] ?? [:]
                    let mean = Double(sample.targets.reduce(0) { $0 + (table[$1] ?? 1) }) / Double(sample.targets.count)
                    draws[group, default: TopKeys(capacity: cap)].offer(key: drawKey(sample, weight: 1 / max(mean, 1)),
                                                                         ordinal: ordinal, sample)
                }
            }
            ordinal += 1
        }
        // Drawn tasks' samples, in timeline order like the rest.
        let kept = (reservoirs.values.flatMap(\.kept) + draws.values.flatMap(\.kept)).sorted {
            $0.ordinal != $1.ordinal ? $0.ordinal < $1.ordinal
                : ($0.sample.task, $0.sample.targetEvent) < ($1.sample.task, $1.sample.targetEvent)
        }
        for entry in kept {
            try output.writeLine(entry.sample.json)
            count(entry.sample, &counts)
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
    func drawKey(_ sample: Sample, weight: Double) -> Double {
        let hash = StableHash.of("\(builder.seed)\u{0}draw\u{0}\(sample.id)")
        let unit = (Double(hash >> 11) + 0.5) / Double(1 << 53)
        return log(unit) / weight
    }

    private func count(_ sample: Sample, _ counts: inout Counts) {
        var entry = counts.byTask[sample.task] ?? (0, 0)
        if sample.split == .train { entry.train += 1 } else { entry.test += 1 }
        counts.byTask[sample.task] = entry
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

    /// Uniform sampling of a fixed number of items from a stream, with a
    /// seeded generator (Algorithm R).
    struct Reservoir {
        let capacity: Int
        var generator: SplitMix64
        var seen = 0
        var kept: [(ordinal: Int, sample: Sample)] = []

        init(capacity: Int, seed: UInt64) {
            self.capacity = capacity
            generator = SplitMix64(seed: seed)
        }

        mutating func offer(ordinal: Int, _ sample: Sample) {
            seen += 1
            if kept.count < capacity {
                kept.append((ordinal, sample))
            } else {
                let slot = Int(generator.next() % UInt64(seen))
                if slot < capacity { kept[slot] = (ordinal, sample) }
            }
        }
    }

    /// The `capacity` entries with the largest keys seen (a binary min-heap
    /// on the key; ties broken by sample id so the result is a function of
    /// the keys alone).
    struct TopKeys {
        let capacity: Int
        var heap: [(key: Double, ordinal: Int, sample: Sample)] = []

        init(capacity: Int) { self.capacity = capacity }

        var kept: [(ordinal: Int, sample: Sample)] { heap.map { ($0.ordinal, $0.sample) } }

        private func less(_ a: Int, _ b: Int) -> Bool {
            heap[a].key != heap[b].key ? heap[a].key < heap[b].key : heap[a].sample.id > heap[b].sample.id
        }

        mutating func offer(key: Double, ordinal: Int, _ sample: Sample) {
            if heap.count < capacity {
                heap.append((key, ordinal, sample))
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
            guard key > smallest.key || (key == smallest.key && sample.id < smallest.sample.id) else { return }
            heap[0] = (key, ordinal, sample)
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
