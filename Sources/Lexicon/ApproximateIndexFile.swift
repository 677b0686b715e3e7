import Foundation
import SimString
import SQLiteDB
import TGSupport

/// The lexicon's SimString index (`strings.simstring`): every normalised
/// string, SimString id = string id - 1.
enum ApproximateIndexFile {
    /// Builds the index over `database`'s strings in id order and writes it
    /// to `path` (through a temporary file renamed into place).
    static func write(strings database: Database, settings: FeatureSettings,
                      to path: String) throws -> LexiconManifest.ApproximateIndex {
        var builder = try SimStringIndexBuilder(settings: settings)
        try LexiconStore.forEachString(in: database) { id, text in
            // Ids are dense from 1, so SimString id = string id - 1.
            guard id == Int64(builder.count + 1) else {
                throw InputError(file: database.path, field: "strings.id",
                                 message: "string ids are not dense (found \(id) after \(builder.count))")
            }
            builder.add(text)
        }
        try builder.write(to: path)
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        return .init(file: LexiconSchema.approximateIndexFileName, bytes: bytes, strings: builder.count,
                     ngram: settings.n, marks: settings.marks, unicode: settings.unicode)
    }
}

extension LexiconStore {
    /// Rebuilds a lexicon's SimString index from its strings, with the
    /// settings its manifest records, and records the new file in the
    /// manifest: what a lexicon needs after an update of thinkgraph changed
    /// the index format (the rest of the lexicon is kept, no source is read).
    public static func reindex(directory: String) throws -> LexiconManifest.ApproximateIndex {
        let store = try LexiconStore(directory: directory)
        let record = store.manifest.approximateIndex
        let settings = FeatureSettings(n: record.ngram, marks: record.marks, unicode: record.unicode)
        let rebuilt = try ApproximateIndexFile.write(strings: store.database, settings: settings,
                                                     to: directory + "/" + LexiconSchema.approximateIndexFileName)
        var manifest = store.manifest
        manifest.approximateIndex = rebuilt
        try manifest.write(to: directory + "/" + LexiconSchema.manifestFileName)
        return rebuilt
    }
}
