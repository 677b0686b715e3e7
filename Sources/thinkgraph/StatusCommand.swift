import ArgumentParser
import Foundation
import Runtime
import TGSupport

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where a run stands: per stage, chunks done / running / failed / stopped / waiting, records, merged or not, the last error.",
        discussion: """
            Reads the run folder only (run.json, the chunk files, their completion markers, locks and .failed files), \
            so it works the same for shell loops and Slurm arrays, while workers run. A chunk is running when a worker \
            holds its lock now; stopped when it has a partial file and no worker (killed or preempted: run it again, \
            it resumes); failed when its worker left an error. Exits 0 even when chunks failed; use --json to script it.
            """)

    @Option(name: .customLong("run"), help: "Run folder.")
    var runFolder: String

    @Flag(help: "One JSON object per stage, one per line.")
    var json = false

    func run() throws {
        let stages = try RunStatus.of(try RunFolder(runFolder))
        if json {
            for stage in stages { print(stage.json.jsonText) }
            return
        }
        print("stage       run.json    chunks  done  running  failed  stopped  waiting  records")
        for stage in stages {
            let name = stage.stage.command.padding(toLength: 11, withPad: " ", startingAt: 0)
            let recorded = (stage.recorded ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)
            guard let count = stage.chunkCount else {
                print("\(name) \(recorded)  \(Self.summary(stage.counts))")
                continue
            }
            let columns = [count] + StageStatus.ChunkState.allCases.map { stage.indexes($0).count } + [stage.records]
            let widths = [6, 5, 8, 7, 8, 8, 8]
            print(name + " " + recorded + zip(columns, widths).map { String($0).leftPadded(to: $1) }.joined())
            for state in [StageStatus.ChunkState.failed, .stopped, .running] where !stage.indexes(state).isEmpty {
                print("            \(state.rawValue): chunk \(stage.indexes(state).map(String.init).joined(separator: ", "))")
            }
            if !stage.otherChunkCounts.isEmpty {
                print("            also chunk files of \(stage.otherChunkCounts.map(String.init).joined(separator: ", ")) chunks (an earlier run)")
            }
            if let error = stage.lastError {
                let job = error.slurmJob.map { ", Slurm job \($0)" } ?? ""
                print("            last error (\(error.chunk), \(error.time), \(error.host)\(job)): \(error.message)")
            }
        }
    }

    /// A stage's counts in run.json, in a line.
    static func summary(_ counts: JSONValue?) -> String {
        guard let members = counts?.objectValue else { return "" }
        return members.compactMap { key, value -> String? in
            if case .integer(let number) = value { return "\(key) \(number)" }
            return nil
        }.prefix(4).joined(separator: ", ")
    }
}
