import SQLiteDB

/// The reference's way of walking the relation graph, kept for the
/// benchmark that measures ours against it: the same relations in an
/// in-memory SQLite table indexed by source, one query per node expansion
/// (EHR-R1 runs one SQL query per expansion on an in-memory copy of MRREL).
public final class SQLAdjacency: Adjacency {
    public let nodeCount: Int
    private let database: Database
    private let neighbours: Statement
    private let labelQuery: Statement

    /// Copies `graph`'s edges into an in-memory database.
    public init(copying graph: RelationGraph) throws {
        nodeCount = graph.nodeCount
        let database = try Database(path: ":memory:", mode: .create)
        self.database = database
        try database.execute("CREATE TABLE relations (source INTEGER NOT NULL, target INTEGER NOT NULL, label INTEGER NOT NULL)")
        try database.transaction {
            let insert = try database.prepare("INSERT INTO relations VALUES (?, ?, ?)")
            for node in 0..<graph.nodeCount {
                for edge in graph.edges(of: node) {
                    try insert.run(.integer(Int64(node)), .integer(Int64(graph.target(edge))), .integer(Int64(graph.label(edge))))
                }
            }
        }
        try database.execute("CREATE INDEX relations_by_source ON relations (source, target, label)")
        neighbours = try database.prepare("SELECT target, label FROM relations WHERE source = ? ORDER BY target, label")
        labelQuery = try database.prepare("SELECT label FROM relations WHERE source = ? AND target = ? ORDER BY label LIMIT 1")
    }

    public func forEachEdge(of node: Int, _ body: (Int, Int) -> Bool) {
        defer { neighbours.reset() }
        guard (try? neighbours.bind([.integer(Int64(node))])) != nil else { return }
        while (try? neighbours.step()) == true {
            if !body(Int(neighbours.int(0)), Int(neighbours.int(1))) { return }
        }
    }

    public func forEachEdge(of node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool) {
        forEachEdge(of: node) { target, label in wanted(target) ? body(target, label) : true }
    }

    /// As the reference: the node's neighbours, then one query per
    /// neighbour for the label of its edge back to the node.
    public func forEachIncoming(to node: Int, wanted: (Int) -> Bool, _ body: (Int, Int) -> Bool) {
        var found: [Int] = []
        forEachEdge(of: node) { neighbour, _ in
            found.append(neighbour)
            return true
        }
        for neighbour in found where wanted(neighbour) {
            guard let label = edgeLabel(from: neighbour, to: node) else { continue }
            if !body(neighbour, label) { return }
        }
    }

    public func edgeLabel(from: Int, to: Int) -> Int? {
        defer { labelQuery.reset() }
        guard (try? labelQuery.bind([.integer(Int64(from)), .integer(Int64(to))])) != nil,
              (try? labelQuery.step()) == true else { return nil }
        return Int(labelQuery.int(0))
    }
}
