import Foundation
import TGSupport

/// Joins a stage's chunk files into one output: checks that every chunk of
/// the run finished (its `.done` marker), names the missing ones, and keeps
/// the first record of every id (a record can appear twice only if a chunk
/// was re-run with another split; merged output never doubles one).
public struct ChunkMerge {
    public struct Missing: Error, CustomStringConvertible {
        public var directory: String
        public var count: Int
        public var missing: [Int]

        public init(directory: String, count: Int, missing: [Int]) {
            self.directory = directory
            self.count = count
            self.missing = missing
        }

        public var description: String {
            "\(directory): \(missing.count) of \(count) chunks not complete: "
                + missing.map(String.init).joined(separator: ", ")
                + " (run those chunk indexes again; they resume where they stopped)"
        }
    }

    public struct Summary: Sendable {
        public var chunks = 0
        public var records = 0
        public var duplicates = 0
    }

    /// The chunk files in `directory` (`chunk-IIII-of-NNNN` + `suffix`) by
    /// index, and their chunk count; throws if files of different counts
    /// are mixed.
    public static func chunkFiles(in directory: String, suffix: String = ".jsonl") throws -> (count: Int, files: [Int: String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var count: Int?
        var files: [Int: String] = [:]
        for name in names where name.hasPrefix("chunk-") && name.hasSuffix(suffix) {
            let parts = name.dropFirst(6).dropLast(suffix.count).split(separator: "-")
            guard parts.count == 3, parts[1] == "of", let index = Int(parts[0]), let total = Int(parts[2]) else { continue }
            if let count, count != total {
                throw UsageError("\(directory): chunk files of different runs (\(count) and \(total) chunks); remove the stale ones")
            }
            count = total
            files[index] = directory + "/" + name
        }
        guard let count else { throw UsageError("\(directory): no chunk files (run the stage first)") }
        return (count, files)
    }

    /// Whether a compact run's merge took this directory's chunks already:
    /// `merged` exists, every chunk has its marker and none its file.
    public static func wasMergedAndRemoved(in directory: String, suffix: String, merged: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: merged) else { return false }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard !names.contains(where: { $0.hasPrefix("chunk-") && $0.hasSuffix(suffix) }) else { return false }
        return names.contains { $0.hasPrefix("chunk-") && $0.hasSuffix(".done") }
    }

    /// What a completion marker records of its finished chunk file: its
    /// size and SHA-256.
    public static func seal(of file: String) throws -> [(String, JSONValue)] {
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
        return [("bytes", .integer(size)), ("sha256", .string(try sha256OfFile(atPath: file)))]
    }

    /// Every chunk's file in index order, each with its completion marker
    /// (`chunk-IIII-of-NNNN.done`); throws `Missing` naming the chunks that
    /// have no file or no marker, and an error naming a chunk whose file is
    /// not the one its worker finished (size or SHA-256 differ from the
    /// marker's: lines deleted, the file cut or edited since).
    public static func completeChunks(in directory: String, suffix: String = ".jsonl") throws -> [String] {
        let (count, files) = try chunkFiles(in: directory, suffix: suffix)
        let missing = (0..<count).filter { index in
            guard let file = files[index] else { return true }
            return !FileManager.default.fileExists(atPath: String(file.dropLast(suffix.count)) + ".done")
        }
        // A marker without its file: the worker would skip the chunk as done.
        func stem(_ index: Int) -> String { String(format: "chunk-%04d-of-%04d", index, count) }
        if let orphan = missing.first(where: { files[$0] == nil && FileManager.default.fileExists(atPath: directory + "/" + stem($0) + ".done") }) {
            throw UsageError("\(directory): chunk \(orphan)'s file is gone but its completion marker is there; "
                + "remove \(stem(orphan)).done and run chunk \(orphan) again")
        }
        guard missing.isEmpty else { throw Missing(directory: directory, count: count, missing: missing) }
        for index in 0..<count {
            let file = files[index]!
            try verify(file, marker: String(file.dropLast(suffix.count)) + ".done", index: index)
        }
        return (0..<count).map { files[$0]! }
    }

    /// What the finished chunks' markers say together: the configuration
    /// they all ran with and their summaries' counts summed. A chunk that
    /// ran with another configuration than chunk 0 is an error naming it,
    /// found before anything is merged, so a mixed run leaves no merged file.
    public static func agreement(of files: [String], suffix: String = ".jsonl") throws
        -> (configuration: [(String, JSONValue)], counts: [(String, Int64)]) {
        var configuration: JSONValue?
        var counts: [String: Int64] = [:]
        for (index, file) in files.enumerated() {
            let marker = String(file.dropLast(suffix.count)) + ".done"
            let value: JSONValue
            do { value = try JSONValue.parse(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
                throw InputError(file: marker, message: "damaged completion marker (\(error)); remove it and run chunk \(index) again")
            }
            if let configuration, configuration != value["configuration"] {
                throw UsageError("\(file): chunk \(index) ran with another configuration than chunk 0; re-run it")
            }
            configuration = value["configuration"]
            for (key, count) in value["summary"]?.objectValue ?? [] {
                if case .integer(let number) = count { counts[key, default: 0] += number }
            }
        }
        return (configuration?.objectValue ?? [], counts.keys.sorted().map { ($0, counts[$0]!) })
    }

    /// Checks a finished chunk file against its marker's size and SHA-256
    /// (markers written before they were recorded are taken as they are).
    static func verify(_ file: String, marker: String, index: Int) throws {
        guard let data = FileManager.default.contents(atPath: marker) else {
            throw InputError(file: marker, message: "cannot read the completion marker")
        }
        let record: JSONValue
        do { record = try JSONValue.parse(String(decoding: data, as: UTF8.self)) } catch {
            throw InputError(file: marker, message: "damaged completion marker (\(error)); remove it and run chunk \(index) again")
        }
        guard let expected = record["sha256"]?.stringValue else { return }
        let found = try seal(of: file)
        guard found[0].1 == record["bytes"], found[1].1 == .string(expected) else {
            let recorded = record["bytes"]?.doubleValue.map { String(Int64($0)) } ?? "?"
            let size = found[0].1.doubleValue.map { String(Int64($0)) } ?? "?"
            throw InputError(file: file, message: "changed since its worker finished (\(recorded) bytes recorded, \(size) found, "
                + "SHA-256 differs): not merged. Remove \((marker as NSString).lastPathComponent) and run chunk \(index) again")
        }
    }

    /// Merges a directory's chunks into `output` (written atomically), or
    /// throws `Missing`.
    public static func merge(directory: String, into output: String) throws -> Summary {
        try merge(try completeChunks(in: directory), into: output)
    }

    /// Merges chunk files (in index order, see `completeChunks`) into
    /// `output`, written atomically.
    public static func merge(_ files: [String], into output: String) throws -> Summary {
        let count = files.count
        let writer = try JSONLinesWriter(path: output)
        var seen = Set<String>()
        var summary = Summary()
        summary.chunks = count
        for index in 0..<count {
            let reader = try LineReader(path: files[index])
            while let line = try reader.nextLine() {
                guard !line.isEmpty else { continue }
                let value: JSONValue
                do {
                    value = try JSONValue.parse(line)
                } catch {
                    throw InputError(file: files[index], line: reader.lineNumber, message: "\(error)")
                }
                guard let id = value["id"]?.stringValue else {
                    throw InputError(file: files[index], line: reader.lineNumber, field: "id", message: "missing")
                }
                guard seen.insert(id).inserted else {
                    summary.duplicates += 1
                    continue
                }
                try writer.writeLine(value)
                summary.records += 1
            }
        }
        try writer.commit()
        return summary
    }
}
