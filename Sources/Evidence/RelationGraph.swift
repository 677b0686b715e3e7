#if canImport(Glibc)
import Glibc
#endif
import CPrefetch
import Foundation
import Lexicon
import TGSupport

/// The lexicon's relations as a compact adjacency structure (CSR): for
/// each concept its outgoing edges, targets ascending, each with a relation
/// label; saved beside the lexicon as `relations.graph` and memory-mapped,
/// so opening costs milliseconds and many processes share one copy.
///
/// Node numbers are the concepts' positions in id order (the order of
/// `ConceptTable.concepts`). An edge u → v labelled L reads "v is L of u"
/// (UMLS's reading of a MRREL row); importers store every statement in
/// both directions, so the reverse edge carries the inverse label.
///
/// File: `TGRG` magic, version 3, node, edge and label counts (UInt32
/// little-endian), then `offsets[nodes + 1]` (UInt32), padded to 8 bytes,
/// one UInt64 record per edge (target, label, and the label of the edge
/// back, target → source, or 0xFFFF: the backward half of a search reads it
/// instead of searching the target's edges), then the label names as
/// length-prefixed UTF-8, then the connected components: the count of
/// label ids ignored when they were computed and those ids (UInt32 each),
/// then one component number per node (UInt32). A file of another version
/// is rebuilt when a lexicon's graph is opened.
public final class RelationGraph: @unchecked Sendable {
    public static let fileName = "relations.graph"
    /// 3: edge records interleaved (target, label, label back).
    /// 4: connected components.
    static let formatVersion: UInt32 = 4
    public let nodeCount: Int
    public let edgeCount: Int
    public let labels: [String]
    private let mapping: UnsafeMutableRawPointer
    private let length: Int
    private let offsets: UnsafePointer<UInt32>
    /// One 8-byte record per edge: target (bits 0-31), label (32-47), label
    /// of the edge back or 0xFFFF (48-63). Together, so that following an
    /// edge of a random node costs one cache miss, not three.
    private let records: UnsafePointer<UInt64>
    /// Each node's connected component, over every edge except those with
    /// a label in `componentsIgnore`: two nodes in different components
    /// have no path between them for any search that skips at least those
    /// labels, which it can tell without exploring anything.
    private let components: UnsafePointer<UInt32>
    public let componentsIgnore: Set<Int>

    /// Opens the lexicon's graph, building it first if it is missing (or
    /// older than the lexicon database).
    public static func open(lexicon: LexiconStore, prefault: Bool = true) throws -> RelationGraph {
        let path = lexicon.directory + "/" + fileName
        let database = lexicon.databasePath
        let manager = FileManager.default
        let stale: Bool = {
            guard let graph = try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date,
                  let source = try? manager.attributesOfItem(atPath: database)[.modificationDate] as? Date else { return true }
            // Older than the lexicon, or not the bytes it was written with:
            // the graph is derived data, so a damaged one is built again.
            return graph < source || !Self.isIntact(path)
        }()
        if stale { try build(lexicon: lexicon, to: path) }
        do {
            return try RelationGraph(path: path, prefault: prefault)
        } catch {
            // An older format or a damaged file: build it again.
            try build(lexicon: lexicon, to: path)
            return try RelationGraph(path: path, prefault: prefault)
        }
    }

    /// The seal beside a graph file (`relations.graph.seal`): the SHA-256
    /// of the bytes written, and the file's size, time and inode when it was
    /// last checked, so an unchanged file costs a `stat` to trust.
    static func sealPath(_ path: String) -> String { path + ".seal" }

    static func writeSeal(_ path: String, sha256: String) {
        guard let identity = FileIdentity.of(path: path) else { return }
        try? "\(sha256) \(identity)\n".write(toFile: sealPath(path), atomically: true, encoding: .utf8)
    }

    /// Whether the graph file holds the bytes its seal records: checked by
    /// its identity, else by its SHA-256 (then the seal is renewed). No
    /// seal (an older build) counts as not intact, so it is built again.
    static func isIntact(_ path: String) -> Bool {
        guard let seal = try? String(contentsOfFile: sealPath(path), encoding: .utf8),
              let space = seal.firstIndex(of: " "), let identity = FileIdentity.of(path: path) else { return false }
        let recorded = String(seal[..<space])
        if seal[seal.index(after: space)...].trimmingCharacters(in: .newlines) == identity { return true }
        guard let actual = try? sha256OfFile(atPath: path), actual == recorded else { return false }
        writeSeal(path, sha256: recorded)
        return true
    }

    /// Builds the graph file from the lexicon's relations (written to a
    /// temporary name, then renamed into place).
    public static func build(lexicon: LexiconStore, to path: String) throws {
        var position: [Int64: UInt32] = [:]
        try lexicon.forEachConceptRowID { position[$0] = UInt32(position.count) }
        var labels: [String] = []
        var labelOfType: [Int64: UInt16] = [:]
        for type in try lexicon.relationTypes() {
            let name = type.rela.isEmpty ? type.rel : type.rela
            if let existing = labels.firstIndex(of: name) {
                labelOfType[type.id] = UInt16(existing)
            } else {
                labelOfType[type.id] = UInt16(labels.count)
                labels.append(name)
            }
        }
        // Edges as (source, target, label) packed into one UInt64 each, sorted.
        var edges: [UInt64] = []
        try lexicon.forEachRelation { concept1, type, concept2 in
            guard let from = position[concept1], let to = position[concept2], let label = labelOfType[type] else { return }
            edges.append(UInt64(from) << 40 | UInt64(to) << 16 | UInt64(label))
        }
        try write(nodes: position.count, edges: edges, labels: labels, to: path)
    }

    /// Writes a graph file: `edges` are (source, target, label) triples.
    /// Its components ignore the edges labelled `componentsIgnore` (by
    /// default the relations the reference's search skips, so that the
    /// components are as fine as the usual search can use).
    public static func write(nodes: Int, edges triples: [(from: Int, to: Int, label: Int)], labels: [String],
                             componentsIgnore: [String] = PathSearch.referenceSkipped, to path: String) throws {
        try write(nodes: nodes, edges: triples.map { UInt64($0.from) << 40 | UInt64($0.to) << 16 | UInt64($0.label) },
                  labels: labels, componentsIgnore: componentsIgnore, to: path)
    }

    private static func write(nodes: Int, edges: [UInt64], labels: [String],
                              componentsIgnore: [String] = PathSearch.referenceSkipped, to path: String) throws {
        guard nodes < 1 << 24, labels.count < 1 << 16 else {
            throw InputError(file: path, message: "graph too large for format \(formatVersion) (\(nodes) concepts, limit 16,777,215)")
        }
        var edges = edges
        edges.sort()
        // Drop exact duplicates (the same statement from two sources).
        var unique: [UInt64] = []
        unique.reserveCapacity(edges.count)
        for edge in edges where unique.last != edge { unique.append(edge) }
        var offsets = [UInt32](repeating: 0, count: nodes + 1)
        for edge in unique { offsets[Int(edge >> 40) + 1] += 1 }
        for node in 0..<nodes { offsets[node + 1] += offsets[node] }

        var bytes: [UInt8] = []
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        bytes.append(contentsOf: Array("TGRG".utf8))
        u32(formatVersion)
        u32(UInt32(nodes))
        u32(UInt32(unique.count))
        u32(UInt32(labels.count))
        for offset in offsets { u32(offset) }
        // Edge records start 8-byte aligned.
        while bytes.count % 8 != 0 { bytes.append(0) }
        for edge in unique {
            // The first edge target → source, by binary search over the
            // sorted (source, target, label) keys.
            let back = (edge >> 16) & 0xFF_FFFF, from = edge >> 40
            let key = back << 40 | from << 16
            var low = 0, high = unique.count
            while low < high {
                let middle = (low + high) / 2
                if unique[middle] < key { low = middle + 1 } else { high = middle }
            }
            let found = low < unique.count && unique[low] >> 16 == key >> 16
            let reverse = found ? unique[low] & 0xFFFF : 0xFFFF
            let record = back | (edge & 0xFFFF) << 32 | reverse << 48
            withUnsafeBytes(of: record.littleEndian) { bytes.append(contentsOf: $0) }
        }
        while bytes.count % 4 != 0 { bytes.append(0) }
        for label in labels {
            u32(UInt32(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        let ignored = componentsIgnore.compactMap { labels.firstIndex(of: $0) }.sorted()
        while bytes.count % 4 != 0 { bytes.append(0) }
        u32(UInt32(ignored.count))
        ignored.forEach { u32(UInt32($0)) }
        for component in connectedComponents(nodes: nodes, edges: unique, ignoring: Set(ignored)) { u32(component) }
        Debris.sweep((path as NSString).deletingLastPathComponent)
        let partial = path + ".partial-\(Debris.tag)"
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: partial))
        } catch {
            unlink(partial)
            throw InputError(file: path, message: "cannot write the relation graph: \((error as NSError).localizedFailureReason ?? "\(error)")")
        }
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw InputError(file: path, message: "cannot move into place: \(String(cString: strerror(errno)))")
        }
        var digest = SHA256()
        digest.update(bytes)
        writeSeal(path, sha256: digest.hexDigest())
        dropFromPageCache(path)
    }

    /// Written through `write`, the file sits in the page cache in 4 KB
    /// pages, and every process mapping it would see it in 4 KB pages.
    /// Dropped, it is read back at the first open through a mapping that
    /// asks for huge pages, in 2 MB pieces that every later mapping shares
    /// (see `init(path:prefault:)`). Only a hint: failures are harmless.
    private static func dropFromPageCache(_ path: String) {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        // Only pages already on disk can be dropped.
        guard fdatasync(descriptor) == 0 else { return }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
    }

    /// Maps the file with a huge-page hint: the page cache then reads it
    /// in 2 MB pieces, which the kernel maps as single pages (it places a
    /// mapping this large on a 2 MB boundary itself). A search's reads are
    /// random over the whole file, and with 4 KB pages nearly every one
    /// also misses the TLB. Pre-faulted unless asked otherwise, after the
    /// hint: a search's prefetches are dropped on pages not yet mapped into
    /// the process, and on a graph of UMLS size the first touch of each page
    /// is a fault of its own. BENCHMARKS.md has what each gains.
    private static func map(_ descriptor: Int32, length: Int, prefault: Bool, path: String) throws -> UnsafeMutableRawPointer {
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw InputError(file: path, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        _ = madvise(address, length, MADV_HUGEPAGE)
        // MADV_POPULATE_READ (Linux 5.14); on an older kernel the pages
        // are read on first use.
        if prefault { _ = madvise(address, length, 22) }
        return address
    }

    /// Component numbers (the smallest node of each, so they do not depend
    /// on the edges' order) by union-find with path halving over the
    /// (source, target, label) keys.
    static func connectedComponents(nodes: Int, edges: [UInt64], ignoring ignored: Set<Int>) -> [UInt32] {
        var parent = [UInt32](0..<UInt32(nodes))
        let ignore = (0..<(1 << 16)).map { ignored.contains($0) }
        parent.withUnsafeMutableBufferPointer { parent in
            func root(_ node: Int) -> Int {
                var node = node
                while parent[node] != UInt32(node) {
                    parent[node] = parent[Int(parent[node])]
                    node = Int(parent[node])
                }
                return node
            }
            for edge in edges where !ignore[Int(edge & 0xFFFF)] {
                let a = root(Int(edge >> 40)), b = root(Int((edge >> 16) & 0xFF_FFFF))
                // The smaller node becomes the root: each component ends up
                // named by its smallest node.
                if a < b { parent[b] = UInt32(a) } else if b < a { parent[a] = UInt32(b) }
            }
            for node in 0..<nodes { parent[node] = UInt32(root(node)) }
        }
        return parent
    }

    /// Maps the graph at `path`; `prefault: false` leaves the pages to be
    /// read on first use (a quick look at one pair).
    public init(path: String, prefault: Bool = true) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_size >= 20 else { throw InputError(file: path, message: "not a relation graph (too short)") }
        length = Int(info.st_size)
        let address = try Self.map(descriptor, length: length, prefault: prefault, path: path)
        mapping = address
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: address.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        let magic = String(decoding: UnsafeRawBufferPointer(start: address, count: 4), as: UTF8.self)
        let nodes = Int(u32(8)), edges = Int(u32(12)), labelCount = Int(u32(16))
        let offsetsAt = 20
        var recordsAt = offsetsAt + (nodes + 1) * 4
        while recordsAt % 8 != 0 { recordsAt += 1 }
        let namesAt = recordsAt + edges * 8
        guard magic == "TGRG", u32(4) == Self.formatVersion, namesAt <= length else {
            munmap(address, length)
            throw InputError(file: path, message: "not a relation graph of version \(Self.formatVersion) (rebuild: delete it)")
        }
        var names: [String] = []
        var cursor = namesAt
        for _ in 0..<labelCount {
            guard cursor + 4 <= length else { break }
            let count = Int(u32(cursor))
            guard cursor + 4 + count <= length else { break }
            names.append(String(decoding: UnsafeRawBufferPointer(start: address + cursor + 4, count: count), as: UTF8.self))
            cursor += 4 + count
        }
        while cursor % 4 != 0 { cursor += 1 }
        var ignored: Set<Int> = []
        let ignoredCount = cursor + 4 <= length ? Int(u32(cursor)) : -1
        if ignoredCount >= 0, cursor + 4 * (1 + ignoredCount) <= length {
            for index in 0..<ignoredCount { ignored.insert(Int(u32(cursor + 4 * (1 + index)))) }
            cursor += 4 * (1 + ignoredCount)
        } else {
            cursor = length + 1
        }
        let base = UnsafeRawPointer(address)
        offsets = (base + offsetsAt).assumingMemoryBound(to: UInt32.self)
        records = (base + recordsAt).assumingMemoryBound(to: UInt64.self)
        components = (base + min(cursor, length)).assumingMemoryBound(to: UInt32.self)
        componentsIgnore = ignored
        guard names.count == labelCount, offsets[nodes] == UInt32(edges), cursor + nodes * 4 == length else {
            munmap(address, length)
            throw InputError(file: path, message: "corrupted relation graph (rebuild: delete it)")
        }
        if let damage = Self.damage(offsets: offsets, records: records, components: components,
                                    nodes: nodes, edges: edges, labels: labelCount) {
            munmap(address, length)
            throw InputError(file: path, message: "corrupted relation graph: \(damage) (rebuild: delete it)")
        }
        nodeCount = nodes
        edgeCount = edges
        labels = names
    }

    /// What makes a mapped graph unsafe to search, if anything: offsets
    /// that go back or past the edges, an edge target that is not a node,
    /// a label (or label back) that names no label, a component number
    /// that is not a node. The search uses targets as raw indices into
    /// its bit sets and components as array positions, so every one is
    /// checked once at open (one pass over the file, sequential reads:
    /// cheap next to the search it protects) rather than at each use.
    static func damage(offsets: UnsafePointer<UInt32>, records: UnsafePointer<UInt64>, components: UnsafePointer<UInt32>,
                       nodes: Int, edges: Int, labels: Int) -> String? {
        guard offsets[0] == 0 else { return "node 0's edges start at \(offsets[0]), not 0" }
        for node in 0..<nodes where offsets[node + 1] < offsets[node] || Int(offsets[node + 1]) > edges {
            return "node \(node)'s edge offsets (\(offsets[node])..<\(offsets[node + 1])) are not within 0..<\(edges) in order"
        }
        for edge in 0..<edges {
            let record = UInt64(littleEndian: records[edge])
            let target = Int(truncatingIfNeeded: record & 0xFFFF_FFFF)
            let label = Int(truncatingIfNeeded: record >> 32 & 0xFFFF), back = Int(truncatingIfNeeded: record >> 48)
            if target >= nodes { return "edge \(edge) points to node \(target), but there are \(nodes) nodes" }
            if label >= labels { return "edge \(edge) has label \(label), but there are \(labels) labels" }
            if back != 0xFFFF, back >= labels { return "edge \(edge)'s way back has label \(back), but there are \(labels) labels" }
        }
        for node in 0..<nodes where Int(UInt32(littleEndian: components[node])) >= nodes {
            return "node \(node) is in component \(UInt32(littleEndian: components[node])), not a node"
        }
        return nil
    }

    deinit { munmap(mapping, length) }

    /// The outgoing edges of `node`: positions into `target(_:)` / `label(_:)`.
    @inline(__always)
    public func edges(of node: Int) -> Range<Int> {
        guard node >= 0, node < nodeCount else { return 0..<0 }
        let start = Int(offsets[node]), end = Int(offsets[node + 1])
        return start..<max(start, min(end, edgeCount))
    }

    @inline(__always) public func target(_ edge: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: records[edge]) & 0xFFFF_FFFF) }
    @inline(__always) public func label(_ edge: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: records[edge]) >> 32 & 0xFFFF) }
    /// The label of the edge back (target → source), if there is one.
    @inline(__always) public func reverseLabel(_ edge: Int) -> Int? {
        let label = Int(truncatingIfNeeded: UInt64(littleEndian: records[edge]) >> 48)
        return label == 0xFFFF ? nil : label
    }

    /// Asks the processor to fetch `node`'s edge records (and its offsets
    /// entry, for `ahead` nodes later): a search knows its frontier in
    /// advance, and on a large graph each node's edges are a cache miss.
    /// The first and the last record: a node's few records (7.5 on average
    /// on a UMLS-size graph) usually straddle two cache lines.
    @inline(__always) public func prefetchEdges(of node: Int) {
        guard node >= 0, node < nodeCount else { return }
        let start = Int(offsets[node]), end = Int(offsets[node + 1])
        tg_prefetch(records + start)
        if end > start + 1 { tg_prefetch(records + (end - 1)) }
    }

    @inline(__always) public func prefetchOffsets(of node: Int) {
        guard node >= 0, node < nodeCount else { return }
        tg_prefetch(offsets + node)
    }

    /// The label of an edge from `from` to `to` (first by label id), if any.
    public func edgeLabel(from: Int, to: Int) -> Int? {
        let range = edges(of: from)
        var low = range.lowerBound, high = range.upperBound
        while low < high {
            let middle = (low + high) / 2
            if target(middle) < to { low = middle + 1 } else { high = middle }
        }
        guard low < range.upperBound, target(low) == to else { return nil }
        return label(low)
    }

    public func labelID(_ name: String) -> Int? { labels.firstIndex(of: name) }

    /// Whether `a` and `b` are in one connected component (those of the
    /// graph without `componentsIgnore`'s edges).
    @inline(__always) public func sameComponent(_ a: Int, _ b: Int) -> Bool { components[a] == components[b] }
}
