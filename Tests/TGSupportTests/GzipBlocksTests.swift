import Foundation
import Testing
@testable import TGSupport
import TestSupport

/// Gzip members of whole lines: what JSONLinesWriter writes for `.gz`,
/// what `gzip -d` and LineReader read whole and RecordIndex by record.
@Suite struct GzipBlocksTests {
    static func temporary(_ name: String) -> String { NSTemporaryDirectory() + "/gzblocks-\(UUID().uuidString)-\(name)" }

    /// 3,000 lines of varied length, one of them longer than a block.
    static let lines: [String] = (0..<3000).map { index in
        let body = index == 1234 ? String(repeating: "y", count: GzipBlocks.blockSize + 77) : String(repeating: "x", count: index % 400)
        return #"{"id":"r\#(index)","body":"\#(body)"}"#
    }

    static func writeCompressed(_ path: String) throws {
        let writer = try JSONLinesWriter(path: path)
        for line in lines { try writer.writeLine(line) }
        try writer.commit()
    }

    @Test func membersHoldWholeLinesAndGzipReadsTheFileWhole() throws {
        let path = Self.temporary("a.jsonl.gz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeCompressed(path)
        var members = 0
        var inflated: [UInt8] = []
        var previousEnd = 0
        let torn = try GzipBlocks.forEachMember(in: path) { offset, length, bytes in
            #expect(offset == previousEnd)
            previousEnd = offset + length
            #expect(bytes.last == 0x0A, "a member ends at a line's end")
            #expect(bytes.count <= GzipBlocks.blockSize || bytes.filter { $0 == 0x0A }.count == 1, "only a long line makes a long member")
            inflated += bytes
            members += 1
        }
        #expect(torn == nil)
        let text = Self.lines.joined(separator: "\n") + "\n"
        #expect(inflated == Array(text.utf8))
        #expect(members > 3)
        // Plain gzip to other tools, and much smaller than the text.
        #expect(try Gunzip.text(of: path) == text)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue
        #expect(size * 5 < text.utf8.count)
        // LineReader reads it as any gzip file.
        let reader = try LineReader(path: path)
        var read: [String] = []
        while let line = try reader.nextLine() { read.append(String(decoding: line, as: UTF8.self)) }
        #expect(read == Self.lines)
    }

    @Test func aTornLastMemberIsReportedWithItsOffset() throws {
        let path = Self.temporary("b.jsonl.gz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.writeCompressed(path)
        var offsets: [Int] = []
        try GzipBlocks.forEachMember(in: path) { offset, _, _ in offsets.append(offset) }
        let last = try #require(offsets.last)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(last + 20))
        try handle.close()
        var seen = 0
        let torn = try GzipBlocks.forEachMember(in: path) { _, _, _ in seen += 1 }
        #expect(torn == last && seen == offsets.count - 1)
    }

    @Test func damagedOrForeignBytesAreNamedByTheirOffset() throws {
        let path = Self.temporary("c.jsonl.gz")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"id\":\"plain text, not gzip\"}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: InputError.self) { try GzipBlocks.forEachMember(in: path) { _, _, _ in } }
        do {
            try GzipBlocks.forEachMember(in: path) { _, _, _ in }
        } catch let error as InputError {
            #expect(error.description.contains("byte 0") && error.description.contains("not gzip"), "\(error)")
        }
    }
}
