import EHR
import Foundation
import Runtime
import TGSupport

/// Stage 1 over a run: for every patient of the chunk that has samples, the
/// concepts of each event, one JSONL record per patient:
///
///     {"id": "10000032", "events": [{"event": 3, "concepts": [{"concept": "C0017725", ...}]}]}
///
/// Event indices are positions in the patient's timeline, as in
/// samples.jsonl. Events without concepts are left out.
public struct ExtractStage {
    public var linker: ConceptLinker
    public var chunk: Chunk
    public var strategy: ChunkStrategy
    public var saveEvery: Int

    public init(linker: ConceptLinker, chunk: Chunk, strategy: ChunkStrategy, saveEvery: Int) {
        self.linker = linker
        self.chunk = chunk
        self.strategy = strategy
        self.saveEvery = saveEvery
    }

    public struct Summary: Sendable {
        public var patients = 0
        public var skipped = 0
        public var events = 0
        public var concepts = 0
        public var byLink: [String: Int] = [:]
        public var alreadyComplete = false

        public var json: JSONValue {
            .object([("patients", .integer(Int64(patients))), ("resumed", .integer(Int64(skipped))),
                     ("events", .integer(Int64(events))), ("concepts", .integer(Int64(concepts))),
                     ("by_link", .object(byLink.keys.sorted().map { ($0, .integer(Int64(byLink[$0]!))) }))])
        }
    }

    /// The ids of the patients that have samples, in timeline-file order.
    public static func patientsWithSamples(run: RunFolder) throws -> [String] {
        var wanted = Set<String>()
        let reader = try LineReader(path: run.samples)
        while let line = try reader.nextLine() {
            guard !line.isEmpty else { continue }
            wanted.insert(try Sample(json: JSONValue.parse(line), file: run.samples, line: reader.lineNumber).patient)
        }
        var ordered: [String] = []
        let timelines = try LineReader(path: run.patients)
        while let line = try timelines.nextLine() {
            // Timeline lines start with the patient id: read it without
            // parsing the events (the stage reads them again below).
            guard !line.isEmpty,
                  let id = try JSONValue.leadingString(line, key: "patient") ?? JSONValue.parse(line)["patient"]?.stringValue,
                  wanted.contains(id) else { continue }
            ordered.append(id)
        }
        return ordered
    }

    /// `inputs` are the checksums of the files read (they and the
    /// configuration make the chunk's fingerprint: a resume on other inputs
    /// is refused).
    public func run(_ run: RunFolder, inputs: [String], configuration: [(String, JSONValue)], progressLabel: String,
                    quiet: Bool) throws -> Summary {
        let chunkRun = try StageChunkRun(stage: "extract", run: run, inputs: inputs, configuration: configuration, chunk: chunk,
                                         strategy: strategy, saveEvery: saveEvery)
        var summary = Summary()
        if chunkRun.isComplete {
            summary.alreadyComplete = true
            summary.skipped = chunkRun.writer.resumed
            return summary
        }
        chunkRun.choose(among: try Self.patientsWithSamples(run: run), progressLabel: progressLabel, quiet: quiet)
        var session = linker.makeSession()
        let reader = try TimelineReader(path: run.patients)
        while let patient = try reader.next() {
            guard chunkRun.owns(patient.id) else { continue }
            let made = try chunkRun.produce(patient.id) {
                var events: [ExtractRecord.Event] = []
                for (index, event) in patient.events.enumerated() {
                    // The same concept from several rows or mentions of one
                    // event is listed once per field, surface and context.
                    var seen = Set<String>()
                    let concepts = try linker.concepts(of: event, session: &session).filter { concept in
                        seen.insert("\(concept.concept)\u{0}\(concept.field)\u{0}\(concept.surface)\u{0}\(concept.context)").inserted
                    }
                    guard !concepts.isEmpty else { continue }
                    summary.events += 1
                    summary.concepts += concepts.count
                    for concept in concepts { summary.byLink[concept.link.rawValue, default: 0] += 1 }
                    events.append(ExtractRecord.Event(event: index, name: event.name, concepts: concepts.map(\.record)))
                }
                return ExtractRecord(id: patient.id, events: events).json
            }
            if made { summary.patients += 1 }
        }
        summary.skipped = chunkRun.resumed
        try chunkRun.finish(configuration: configuration, summary: summary.json)
        return summary
    }
}
