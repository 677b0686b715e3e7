import Testing
@testable import SimString
import TestSupport

@Suite struct PostingTests {
    /// A posting's fields come back apart, and the folded sketch keeps what
    /// the search relies on: a bit of a string's folded sketch outside the
    /// query's folded sketch stands for a distinct feature the query lacks.
    @Test func postingsKeepTheirFieldsAndFoldingNeverCountsTooManyMisses() {
        #expect(Posting.matchesFormat)
        #expect(MemoryLayout<Posting>.stride == IndexFormat.postingSize)
        var random = SeededRandom(seed: 17)
        for _ in 0..<5_000 {
            let query = (0..<Int.random(in: 1...30, using: &random)).map { _ in Int.random(in: 0..<100_000, using: &random) }
            let shared = query.filter { _ in Bool.random(using: &random) }
            let other = (0..<Int.random(in: 0...40, using: &random)).map { _ in Int.random(in: 100_000..<200_000, using: &random) }
            let string = shared + other
            let querySketch = query.reduce(UInt64(0)) { $0 | sketchBit(ofFeature: $1) }
            let stringSketch = string.reduce(UInt64(0)) { $0 | sketchBit(ofFeature: $1) }
            let id = UInt32.random(in: 0...UInt32.max, using: &random)
            let rank = Int.random(in: 0...300, using: &random)
            let posting = Posting(id: id, rank: rank, sketch: stringSketch)
            #expect(posting.id == id)
            #expect(posting.rank == UInt8(min(rank, 255)))
            #expect(posting.word & Posting.sketchMask == Posting.fold(stringSketch))
            let outside = ~Posting.fold(querySketch) & Posting.sketchMask
            #expect((posting.word & outside).nonzeroBitCount <= other.count)
            #expect(Posting.fold(querySketch | stringSketch) == Posting.fold(querySketch) | Posting.fold(stringSketch))
        }
    }
}
