import TGSupport

/// Writes the sample index of a timeline file (`samples.jsonl`), optionally
/// capping each task's samples per split with label-balanced sampling.
///
/// Without caps the timeline is read once and samples are streamed out.
/// With caps it is read twice: first to count samples per (task, split,
/// label), where a sample's label is its first target item; the cap is then
/// shared out evenly over labels ("water filling": labels with fewer samples
/// than their share keep all of them and pass the rest on), and the second
/// pass keeps each label's quota by seeded reservoir sampling. Memory holds
/// the kept samples of capped tasks, at most the caps' sum.
public struct SampleIndex {
    public var builder: SampleBuilder
    /// Task name → most samples per split (nil: no cap).
    public var caps: [String: Int]

    public init(builder: SampleBuilder, caps: [String: Int] = [:]) {
        self.builder = builder
        self.caps = caps
    }

    public struct Counts: Sendable {
        /// Task → (train, test) written.
        public var byTask: [String: (train: Int, test: Int)] = [:]
        /// Task → samples found before caps.
        public var available: [String: Int] = [:]
        public var patients = 0
        public var total: Int { byTask.values.reduce(0) { $0 + $1.train + $1.test } }

        public var json: JSONValue {
            .object(byTask.keys.sorted().map { task in
                let counts = byTask[task]!
                return (task, .object([("train", .integer(Int64(counts.train))), ("test", .integer(Int64(counts.test))),
                                       ("available", .integer(Int64(available[task] ?? 0)))]))
            })
        }
    }

    struct GroupKey: Hashable {
        var task: String
        var split: Split
        var label: String
    }

    public func write(patients path: String, to output: JSONLinesWriter) throws -> Counts {
        var counts = Counts()
        for task in builder.tasks { counts.byTask[task.name] = (0, 0) }
        var quotas: [GroupKey: Int] = [:]
        if !caps.isEmpty {
            var sizes: [GroupKey: Int] = [:]
            let reader = try TimelineReader(path: path)
            while let patient = try reader.next() {
                for sample in builder.samples(for: patient) where caps[sample.task] != nil {
                    sizes[GroupKey(task: sample.task, split: sample.split, label: sample.targets[0]), default: 0] += 1
                }
            }
            quotas = Self.quotas(sizes: sizes, caps: caps)
        }
        var reservoirs: [GroupKey: Reservoir] = [:]
        let reader = try TimelineReader(path: path)
        var ordinal = 0
        while let patient = try reader.next() {
            counts.patients += 1
            for sample in builder.samples(for: patient) {
                counts.available[sample.task, default: 0] += 1
                guard caps[sample.task] != nil else {
                    try output.writeLine(sample.json)
                    count(sample, &counts)
                    continue
                }
                let key = GroupKey(task: sample.task, split: sample.split, label: sample.targets[0])
                let quota = quotas[key] ?? 0
                guard quota > 0 else { continue }
                reservoirs[key, default: Reservoir(capacity: quota,
                                                   seed: StableHash.of("\(builder.seed)\u{0}\(key.task)\u{0}\(key.split)\u{0}\(key.label)"))]
                    .offer(ordinal: ordinal, sample)
            }
            ordinal += 1
        }
        // Capped tasks' samples, in timeline order like the rest.
        let kept = reservoirs.values.flatMap(\.kept).sorted {
            $0.ordinal != $1.ordinal ? $0.ordinal < $1.ordinal
                : ($0.sample.task, $0.sample.targetEvent) < ($1.sample.task, $1.sample.targetEvent)
        }
        for entry in kept {
            try output.writeLine(entry.sample.json)
            count(entry.sample, &counts)
        }
        return counts
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
}
