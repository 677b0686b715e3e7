import Foundation
import Testing
@testable import TGSupport

@Suite struct StagedDirectoryTests {
    let root = NSTemporaryDirectory() + "/staged-\(UUID().uuidString)"

    func contents(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    @Test func commitMovesIntoPlaceAndDiscardLeavesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let destination = root + "/lexicon"
        let first = try StagedDirectory(destination: destination, replacingExisting: false, marker: "file", kind: "a test folder")
        try Data("1".utf8).write(to: URL(fileURLWithPath: first.path("file")))
        #expect(!FileManager.default.fileExists(atPath: destination))
        try first.commit()
        #expect(contents(destination) == ["file"])

        #expect(throws: UsageError.self) { _ = try StagedDirectory(destination: destination, replacingExisting: false, marker: "file", kind: "a test folder") }

        let second = try StagedDirectory(destination: destination, replacingExisting: true, marker: "file", kind: "a test folder")
        try Data("2".utf8).write(to: URL(fileURLWithPath: second.path("other")))
        second.discard()
        #expect(contents(destination) == ["file"])
        #expect(contents(root) == ["lexicon"])

        let third = try StagedDirectory(destination: destination, replacingExisting: true, marker: "file", kind: "a test folder")
        try Data("3".utf8).write(to: URL(fileURLWithPath: third.path("new")))
        try third.commit()
        #expect(contents(destination) == ["new"])
        #expect(contents(root) == ["lexicon"])
        // "new" is not the marker: the folder is no longer recognisably ours.
        #expect(throws: UsageError.self) { _ = try StagedDirectory(destination: destination, replacingExisting: true, marker: "file", kind: "a test folder") }
        #expect(contents(destination) == ["new"])
    }
}
