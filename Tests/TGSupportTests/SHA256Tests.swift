import Foundation
import Testing
@testable import TGSupport

@Suite struct SHA256Tests {
    func digest(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        return hasher.hexDigest()
    }

    @Test func knownVectors() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func streamingInPiecesEqualsOneShot() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var whole = SHA256()
        whole.update(bytes)
        var pieces = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 5] where offset < bytes.count {
            let end = min(offset + size, bytes.count)
            pieces.update(bytes[offset..<end])
            offset = end
        }
        pieces.update(bytes[offset...])
        #expect(whole.hexDigest() == pieces.hexDigest())
    }

    @Test func millionA() {
        var hasher = SHA256()
        hasher.update([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        #expect(hasher.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func fileDigestMatchesSha256sum() throws {
        let path = NSTemporaryDirectory() + "/sha-\(UUID().uuidString)"
        try Data("hello\nworld".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try sha256OfFile(atPath: path) == digest("hello\nworld"))
    }

    /// A gzipped file is hashed as it is on disk, not as it inflates (the
    /// run's checksums of compact files: eight times less to hash).
    @Test func aGzippedFileIsHashedAsStored() throws {
        let path = NSTemporaryDirectory() + "/sha-\(UUID().uuidString).jsonl.gz"
        var stored: [UInt8] = []
        try Array(String(repeating: "{\"a\":1}\n", count: 1000).utf8).withUnsafeBytes { try GzipBlocks.compress($0, into: &stored) }
        try Data(stored).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var hasher = SHA256()
        hasher.update(stored)
        #expect(try sha256OfFile(atPath: path) == hasher.hexDigest())
    }
}
