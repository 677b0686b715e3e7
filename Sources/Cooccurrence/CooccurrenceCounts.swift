import SQLiteDB
import TGSupport

/// Task-wise co-occurrence counts (REFERENCE §1, stage 2): per task, N (the
/// samples counted), n(c) (samples whose target or history holds c) and
/// c(t, h) (samples with t among their targets and h in their history).
///
/// Concepts are interned to 32-bit numbers and a pair is one 64-bit key in
/// an open-addressing table, so memory grows with distinct concepts and
/// pairs, never with samples.
public struct CooccurrenceCounts {
    public private(set) var conceptIDs: [String: UInt32] = [:]
    public private(set) var conceptKeys: [String] = []
    public private(set) var names: [String] = []
    var taskIndex: [String: Int] = [:]
    var taskNames: [String] = []
    var taskCounts: [TaskCounts] = []

    struct TaskCounts {
        var samples = 0
        /// n(c) by interned concept id.
        var concepts: [UInt32] = []
        var pairs = PairTable()
    }

    public init() {}

    public mutating func intern(_ concept: String, name: String) -> UInt32 {
        if let id = conceptIDs[concept] { return id }
        let id = UInt32(conceptKeys.count)
        conceptIDs[concept] = id
        conceptKeys.append(concept)
        names.append(name)
        return id
    }

    mutating func task(_ name: String) -> Int {
        if let index = taskIndex[name] { return index }
        taskIndex[name] = taskNames.count
        taskNames.append(name)
        taskCounts.append(TaskCounts())
        return taskNames.count - 1
    }

    /// Counts one sample: `targets` and `history` hold each concept once.
    public mutating func add(task name: String, targets: [UInt32], history: [UInt32]) {
        let index = task(name)
        taskCounts[index].samples += 1
        var seen = Set<UInt32>()
        for concept in targets + history where seen.insert(concept).inserted { increment(index, concept, by: 1) }
        for target in targets {
            for concept in history { taskCounts[index].pairs.add(UInt64(target) << 32 | UInt64(concept)) }
        }
    }

    mutating func increment(_ task: Int, _ concept: UInt32, by amount: UInt32) {
        let position = Int(concept)
        if taskCounts[task].concepts.count <= position {
            taskCounts[task].concepts.append(contentsOf: repeatElement(0, count: position + 1 - taskCounts[task].concepts.count))
        }
        taskCounts[task].concepts[position] &+= amount
    }

    public var pairCount: Int { taskCounts.reduce(0) { $0 + $1.pairs.count } }
    public var sampleCounts: [(task: String, samples: Int)] {
        taskNames.indices.map { (taskNames[$0], taskCounts[$0].samples) }.sorted { $0.task < $1.task }
    }

    // MARK: SQLite

    /// Integer ids throughout; text once, in `names` and `tasks`.
    static let schema = """
        CREATE TABLE tasks (id INTEGER PRIMARY KEY, task TEXT NOT NULL UNIQUE, samples INTEGER NOT NULL);
        CREATE TABLE names (id INTEGER PRIMARY KEY, concept TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
        CREATE TABLE concepts (task INTEGER NOT NULL, concept INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (task, concept)) WITHOUT ROWID;
        """

    /// The merged matrix is read by (task, target) and (task, history), so
    /// its pairs are a clustered B-tree; a chunk file is only read through
    /// once by merge, so its pairs are a plain table (faster to write).
    static let keyedPairs = """
        CREATE TABLE pairs (task INTEGER NOT NULL, target INTEGER NOT NULL, history INTEGER NOT NULL,
            count INTEGER NOT NULL, PRIMARY KEY (task, target, history)) WITHOUT ROWID;
        """
    static let plainPairs = """
        CREATE TABLE pairs (task INTEGER NOT NULL, target INTEGER NOT NULL, history INTEGER NOT NULL, count INTEGER NOT NULL);
        """

    /// Lift and support computed when read, so thresholds change without
    /// recounting: lift(t, h) = c(t, h) · N / (n(t) · n(h)).
    static let views = """
        CREATE VIEW lift AS
            SELECT tk.task AS task, nt.concept AS target, nh.concept AS history, p.count, ct.n AS n_target,
                   ch.n AS n_history, tk.samples,
                   CAST(p.count AS REAL) * tk.samples / (CAST(ct.n AS REAL) * ch.n) AS lift,
                   nt.name AS target_name, nh.name AS history_name
            FROM pairs p
            JOIN tasks tk ON tk.id = p.task
            JOIN concepts ct ON ct.task = p.task AND ct.concept = p.target
            JOIN concepts ch ON ch.task = p.task AND ch.concept = p.history
            JOIN names nt ON nt.id = p.target
            JOIN names nh ON nh.id = p.history;
        """

    /// Writes the counts as a new SQLite file (a chunk's partial counts, or
    /// the merged matrix with `forReading`: the lift view and an index by
    /// history concept). Concepts and tasks are numbered in the order of
    /// their ids' text, not in the order they were met, so the same counts
    /// give the same bytes however the samples were chunked or iterated.
    public func write(to path: String, forReading: Bool = false) throws {
        let conceptOrder = conceptKeys.indices.sorted { conceptKeys[$0].utf8.lexicographicallyPrecedes(conceptKeys[$1].utf8) }
        var rank = [UInt32](repeating: 0, count: conceptKeys.count)
        for (position, old) in conceptOrder.enumerated() { rank[old] = UInt32(position) }
        let taskOrder = taskNames.indices.sorted { taskNames[$0].utf8.lexicographicallyPrecedes(taskNames[$1].utf8) }

        let database = try Database(path: path, mode: .create)
        try database.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;")
        try database.execute(Self.schema + (forReading ? Self.keyedPairs : Self.plainPairs))
        try database.transaction {
            let name = try database.prepare("INSERT INTO names (id, concept, name) VALUES (?, ?, ?)")
            for (position, old) in conceptOrder.enumerated() {
                try name.run(.integer(Int64(position)), .text(conceptKeys[old]), .text(names[old]))
            }
            let task = try database.prepare("INSERT INTO tasks (id, task, samples) VALUES (?, ?, ?)")
            let concept = try database.prepare("INSERT INTO concepts (task, concept, n) VALUES (?, ?, ?)")
            let pair = try database.prepare("INSERT INTO pairs (task, target, history, count) VALUES (?, ?, ?, ?)")
            for (position, index) in taskOrder.enumerated() {
                let counts = taskCounts[index]
                let taskID = Int64(position)
                try task.run(.integer(taskID), .text(taskNames[index]), .integer(Int64(counts.samples)))
                for (position, old) in conceptOrder.enumerated() where old < counts.concepts.count && counts.concepts[old] > 0 {
                    try concept.run(.integer(taskID), .integer(Int64(position)), .integer(Int64(counts.concepts[old])))
                }
                var entries: [(key: UInt64, count: UInt32)] = []
                entries.reserveCapacity(counts.pairs.count)
                counts.pairs.forEach { key, count in
                    entries.append((UInt64(rank[Int(key >> 32)]) << 32 | UInt64(rank[Int(key & 0xFFFF_FFFF)]), count))
                }
                entries.sort { $0.key < $1.key }
                for (key, count) in entries {
                    try pair.bind(taskID, at: 1)
                    try pair.bind(Int64(key >> 32), at: 2)
                    try pair.bind(Int64(key & 0xFFFF_FFFF), at: 3)
                    try pair.bind(Int64(count), at: 4)
                    _ = try pair.step()
                    pair.reset()
                }
            }
        }
        if forReading {
            try database.execute(Self.views)
            try database.execute("CREATE INDEX pairs_by_history ON pairs (task, history)")
            try database.execute("ANALYZE")
        }
    }

    /// Adds a chunk file's counts (map/reduce: concepts and tasks are
    /// matched by their text, so chunks may number them differently).
    public mutating func add(chunk path: String) throws {
        let database = try Database(path: path, mode: .readOnly)
        try database.execute("PRAGMA cache_size = -65536")
        var conceptMap: [Int64: UInt32] = [:]
        let names = try database.prepare("SELECT id, concept, name FROM names")
        try names.bind([])
        while try names.step() { conceptMap[names.int(0)] = intern(names.text(1), name: names.text(2)) }
        var taskMap: [Int64: Int] = [:]
        let tasks = try database.prepare("SELECT id, task, samples FROM tasks")
        try tasks.bind([])
        while try tasks.step() {
            let index = task(tasks.text(1))
            taskMap[tasks.int(0)] = index
            taskCounts[index].samples += Int(tasks.int(2))
        }
        func lookup<T>(_ map: [Int64: T], _ id: Int64, _ what: String) throws -> T {
            guard let value = map[id] else { throw InputError(file: path, field: what, message: "unknown id \(id) (damaged chunk file)") }
            return value
        }
        let concepts = try database.prepare("SELECT task, concept, n FROM concepts")
        try concepts.bind([])
        while try concepts.step() {
            increment(try lookup(taskMap, concepts.int(0), "task"), try lookup(conceptMap, concepts.int(1), "concept"),
                      by: UInt32(concepts.int(2)))
        }
        let pairs = try database.prepare("SELECT task, target, history, count FROM pairs")
        try pairs.bind([])
        while try pairs.step() {
            let index = try lookup(taskMap, pairs.int(0), "task")
            let key = UInt64(try lookup(conceptMap, pairs.int(1), "target")) << 32 | UInt64(try lookup(conceptMap, pairs.int(2), "history"))
            taskCounts[index].pairs.add(key, UInt32(pairs.int(3)))
        }
    }

    /// Sums chunk files into one matrix file, written to `path`.
    public static func merge(_ chunks: [String], into path: String) throws {
        var total = CooccurrenceCounts()
        for chunk in chunks { try total.add(chunk: chunk) }
        try total.write(to: path, forReading: true)
    }
}

/// Reading a merged matrix: the partners of a concept with counts and lift.
public struct CooccurrenceMatrix {
    public let database: Database
    /// The evidence stage's one query, prepared once: it runs per target.
    private let strongest: Statement

    public init(path: String) throws {
        database = try Database(path: path, mode: .readOnly)
        strongest = try database.prepare("""
            SELECT history, lift, count FROM lift WHERE task = ? AND target = ? AND lift > ? AND n_history >= ?
            ORDER BY lift DESC, count DESC, history
            """)
    }

    /// The history concepts of `target` in `task` whose lift is above
    /// `threshold` and that `minimumSupport` samples have, strongest
    /// first (ties: more samples, then concept id): the evidence stage's
    /// candidates, as the reference's `get_cooccurrence` ranks them.
    public func historyPartners(task: String, target: String, above threshold: Double,
                                minimumSupport: Int) throws -> [(history: String, lift: Double, count: Int)] {
        try strongest.rows(.text(task), .text(target), .real(threshold), .integer(Int64(minimumSupport))) {
            ($0.text(0), $0.double(1), Int($0.int(2)))
        }
    }

    public struct Partner: Sendable {
        public var concept: String
        public var name: String
        public var count: Int
        public var nTarget: Int
        public var nHistory: Int
        public var samples: Int
        public var lift: Double
    }

    /// Concept ids whose id or name matches `text` (case-insensitive name).
    public func resolve(_ text: String) throws -> [String] {
        try database.prepare("SELECT concept FROM names WHERE concept = ?1 OR lower(name) = lower(?1) ORDER BY concept")
            .rows(.text(text)) { $0.text(0) }
    }

    public func tasks() throws -> [(task: String, samples: Int)] {
        try database.prepare("SELECT task, samples FROM tasks ORDER BY task").rows { ($0.text(0), Int($0.int(1))) }
    }

    /// The strongest partners of `concept` in `task`: history concepts when
    /// it is the target (`asTarget`), else target concepts; pairs whose
    /// history concept has n(h) < `minimumSupport` are dropped, as the
    /// reference does.
    public func partners(task: String, concept: String, asTarget: Bool, minimumSupport: Int, limit: Int) throws -> [Partner] {
        // Column names are fixed here, never taken from input.
        let (mine, other) = asTarget ? ("target", "history") : ("history", "target")
        return try database.prepare("""
            SELECT \(other), \(other)_name, count, n_target, n_history, samples, lift FROM lift
            WHERE task = ? AND \(mine) = ? AND n_history >= ?
            ORDER BY lift DESC, count DESC, \(other) LIMIT ?
            """).rows(.text(task), .text(concept), .integer(Int64(minimumSupport)), .integer(Int64(limit))) { row in
            Partner(concept: row.text(0), name: row.text(1), count: Int(row.int(2)), nTarget: Int(row.int(3)),
                    nHistory: Int(row.int(4)), samples: Int(row.int(5)), lift: row.double(6))
        }
    }
}
