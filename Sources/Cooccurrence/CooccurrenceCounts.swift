import SQLiteDB
import TGSupport

/// Task-wise co-occurrence counts (REFERENCE §1, stage 2): per task, N (the
/// samples counted), n(c) (samples whose target or history holds c) and
/// c(t, h) (samples with t among their targets and h in their history).
///
/// Concepts are interned to 32-bit numbers and a pair is one 64-bit key, so
/// memory grows with distinct concepts and pairs, never with samples.
public struct CooccurrenceCounts {
    public private(set) var conceptIDs: [String: UInt32] = [:]
    public private(set) var conceptKeys: [String] = []
    public private(set) var names: [String] = []
    public private(set) var tasks: [String: TaskCounts] = [:]

    public struct TaskCounts {
        public var samples = 0
        public var concepts: [UInt32: Int] = [:]
        public var pairs: [UInt64: Int] = [:]
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

    /// Counts one sample: `targets` and `history` are its concepts (sets).
    public mutating func add(task: String, targets: Set<UInt32>, history: Set<UInt32>) {
        var counts = tasks.removeValue(forKey: task) ?? TaskCounts()
        counts.samples += 1
        for concept in targets.union(history) { counts.concepts[concept, default: 0] += 1 }
        for target in targets {
            for concept in history { counts.pairs[UInt64(target) << 32 | UInt64(concept), default: 0] += 1 }
        }
        tasks[task] = counts
    }

    public var pairCount: Int { tasks.values.reduce(0) { $0 + $1.pairs.count } }

    // MARK: SQLite

    static let schema = """
        CREATE TABLE IF NOT EXISTS tasks (task TEXT PRIMARY KEY, samples INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS names (concept TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS concepts (task TEXT NOT NULL, concept TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (task, concept)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS pairs (task TEXT NOT NULL, target TEXT NOT NULL, history TEXT NOT NULL,
            count INTEGER NOT NULL, PRIMARY KEY (task, target, history)) WITHOUT ROWID;
        """

    /// Lift and support computed when read, so thresholds change without
    /// recounting: lift(t, h) = c(t, h) · N / (n(t) · n(h)).
    static let views = """
        CREATE VIEW IF NOT EXISTS lift AS
            SELECT p.task, p.target, p.history, p.count, ct.n AS n_target, ch.n AS n_history, t.samples,
                   CAST(p.count AS REAL) * t.samples / (CAST(ct.n AS REAL) * ch.n) AS lift
            FROM pairs p
            JOIN tasks t ON t.task = p.task
            JOIN concepts ct ON ct.task = p.task AND ct.concept = p.target
            JOIN concepts ch ON ch.task = p.task AND ch.concept = p.history;
        """

    /// Writes the counts as a new SQLite file (a chunk's partial counts).
    public func write(to path: String) throws {
        let database = try Database(path: path, mode: .create)
        try database.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        try database.execute(Self.schema)
        try database.transaction {
            let task = try database.prepare("INSERT INTO tasks (task, samples) VALUES (?, ?)")
            let name = try database.prepare("INSERT INTO names (concept, name) VALUES (?, ?)")
            let concept = try database.prepare("INSERT INTO concepts (task, concept, n) VALUES (?, ?, ?)")
            let pair = try database.prepare("INSERT INTO pairs (task, target, history, count) VALUES (?, ?, ?, ?)")
            for (index, key) in conceptKeys.enumerated() { try name.run(.text(key), .text(names[index])) }
            for taskName in tasks.keys.sorted() {
                let counts = tasks[taskName]!
                try task.run(.text(taskName), .integer(Int64(counts.samples)))
                for (id, n) in counts.concepts { try concept.run(.text(taskName), .text(conceptKeys[Int(id)]), .integer(Int64(n))) }
                for (key, count) in counts.pairs {
                    try pair.run(.text(taskName), .text(conceptKeys[Int(key >> 32)]), .text(conceptKeys[Int(key & 0xFFFF_FFFF)]),
                                 .integer(Int64(count)))
                }
            }
        }
    }

    /// Sums chunk files into one matrix file (map/reduce), with the lift
    /// view; written to `path` (which must not exist yet).
    public static func merge(_ chunks: [String], into path: String) throws {
        let database = try Database(path: path, mode: .create)
        try database.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        try database.execute(schema)
        for chunk in chunks {
            try database.prepare("ATTACH DATABASE ? AS chunk").run(.text(chunk))
            try database.transaction {
                try database.execute("""
                    INSERT INTO tasks SELECT task, samples FROM chunk.tasks WHERE true
                        ON CONFLICT (task) DO UPDATE SET samples = samples + excluded.samples;
                    INSERT INTO names SELECT concept, name FROM chunk.names WHERE true ON CONFLICT (concept) DO NOTHING;
                    INSERT INTO concepts SELECT task, concept, n FROM chunk.concepts WHERE true
                        ON CONFLICT (task, concept) DO UPDATE SET n = n + excluded.n;
                    INSERT INTO pairs SELECT task, target, history, count FROM chunk.pairs WHERE true
                        ON CONFLICT (task, target, history) DO UPDATE SET count = count + excluded.count;
                    """)
            }
            try database.execute("DETACH DATABASE chunk")
        }
        try database.execute(views)
        try database.execute("CREATE INDEX pairs_by_history ON pairs (task, history)")
        try database.execute("ANALYZE")
    }
}

/// Reading a merged matrix: the partners of a concept with counts and lift.
public struct CooccurrenceMatrix {
    public let database: Database

    public init(path: String) throws {
        database = try Database(path: path, mode: .readOnly)
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
        let (mine, other) = asTarget ? ("target", "history") : ("history", "target")
        return try database.prepare("""
            SELECT l.\(other), coalesce(nm.name, l.\(other)), l.count, l.n_target, l.n_history, l.samples, l.lift
            FROM lift l LEFT JOIN names nm ON nm.concept = l.\(other)
            WHERE l.task = ? AND l.\(mine) = ? AND l.n_history >= ?
            ORDER BY l.lift DESC, l.count DESC, l.\(other) LIMIT ?
            """).rows(.text(task), .text(concept), .integer(Int64(minimumSupport)), .integer(Int64(limit))) { row in
            Partner(concept: row.text(0), name: row.text(1), count: Int(row.int(2)), nTarget: Int(row.int(3)),
                    nHistory: Int(row.int(4)), samples: Int(row.int(5)), lift: row.double(6))
        }
    }
}
