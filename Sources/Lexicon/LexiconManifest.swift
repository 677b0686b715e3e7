import Foundation
import TGSupport

/// `manifest.json`: what a lexicon was built from and how. Written last, so a
/// folder without it is not a lexicon.
public struct LexiconManifest: Codable, Sendable, Equatable {
    public var formatVersion: Int
    public var tool: String
    public var createdAt: String
    public var normalization: Normalization
    public var options: Options
    public var sources: [Source]
    public var counts: LexiconCounts
    public var database: FileRecord
    /// The SimString index over the normalised strings (string id = SimString
    /// id + 1).
    public var approximateIndex: ApproximateIndex

    public struct ApproximateIndex: Codable, Sendable, Equatable {
        public var file: String
        public var bytes: UInt64
        public var strings: Int
        public var ngram: Int
        public var marks: Bool
        public var unicode: Bool
    }

    public struct Normalization: Codable, Sendable, Equatable {
        public var lowercase: Bool
        public var asciiTransliteration: Bool
        public var algorithmVersion: Int

        public var normalizer: TermNormalizer {
            TermNormalizer(lowercase: lowercase, asciiTransliteration: asciiTransliteration)
        }
    }

    /// Filters applied to UMLS RRF rows.
    public struct Options: Codable, Sendable, Equatable {
        public var languages: [String]
        public var sourceVocabularies: [String]?
        public var keepSuppressible: Bool
    }

    /// One input: its kind (`umls`, `obo`, `icd10cm`), the files read with
    /// their size and checksum, and what the importer counted.
    public struct Source: Codable, Sendable, Equatable {
        public var kind: String
        public var name: String
        public var files: [FileRecord]
        public var counts: [String: Int]
    }

    public struct FileRecord: Codable, Sendable, Equatable {
        public var path: String
        public var bytes: UInt64
        public var sha256: String?
    }
}

/// Row counts of the lexicon's tables.
public struct LexiconCounts: Codable, Sendable, Equatable {
    public var concepts = 0
    public var strings = 0
    public var terms = 0
    public var semanticTypes = 0
    public var definitions = 0
    public var relations = 0
    public var relationTypes = 0
    public var xrefs = 0
    /// Terms longer than `LexiconWriter.maximumTermBytes` (normalised),
    /// left out: no note spells them, and one would bloat the index.
    public var longTermsSkipped: Int?
    public init() {}
}

extension LexiconManifest {
    static func load(from path: String) throws -> LexiconManifest {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InputError(file: path, message: "cannot read lexicon manifest (is this a lexicon folder?)")
        }
        do {
            return try JSONDecoder().decode(LexiconManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw InputError(file: path, field: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."),
                             message: "missing in manifest")
        } catch {
            throw InputError(file: path, message: "not a valid lexicon manifest: \(error)")
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var data = try encoder.encode(self)
        data.append(0x0A)
        try SafeReplace.write(data, to: path)
    }
}
