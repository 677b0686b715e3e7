import Testing
@testable import SimString
import TestSupport

@Suite struct PostingLayoutTests {
    @Test func idsTakeTheBitsTheStringCountNeedsAndTheSketchTheRest() {
        for (strings, idBits) in [(0, 16), (600, 16), (65_535, 16), (65_536, 17), (150_651, 18), (2_000_000, 21),
                                  (1 << 24, 25), (Int(UInt32.max), 32)] {
            let layout = PostingLayout(stringCount: strings)
            #expect(layout.idBits == idBits, "\(strings) strings")
            #expect(layout.sketchBits == 56 - idBits)
        }
    }

    /// A posting's fields come back apart, and the folded sketch keeps what
    /// the search relies on: a bit of a string's folded sketch outside the
    /// query's folded sketch stands for a distinct feature the query lacks.
    @Test(arguments: [600, 150_651, 2_000_000, Int(UInt32.max)])
    func postingsKeepTheirFieldsAndFoldingNeverCountsTooManyMisses(strings: Int) {
        let layout = PostingLayout(stringCount: strings)
        var random = SeededRandom(seed: UInt64(strings))
        for _ in 0..<2_000 {
            let query = (0..<Int.random(in: 1...30, using: &random)).map { _ in Int.random(in: 0..<100_000, using: &random) }
            let shared = query.filter { _ in Bool.random(using: &random) }
            let other = (0..<Int.random(in: 0...30, using: &random)).map { _ in Int.random(in: 100_000..<200_000, using: &random) }
            let string = shared + other
            let querySketch = query.reduce(UInt64(0)) { $0 | sketchBit(ofFeature: $1) }
            let stringSketch = string.reduce(UInt64(0)) { $0 | sketchBit(ofFeature: $1) }
            let id = UInt32.random(in: 0...UInt32(truncatingIfNeeded: layout.idMask), using: &random)
            let rank = Int.random(in: 0...300, using: &random)
            let posting = Posting(bits: layout.posting(id: id, rank: rank, sketch: stringSketch))
            #expect(UInt32(truncatingIfNeeded: posting.bits & layout.idMask) == id)
            #expect(posting.rank == UInt8(min(rank, 255)))
            #expect(posting.bits >> UInt64(layout.idBits) & layout.sketchMask == layout.fold(stringSketch))
            let outside = (~layout.fold(querySketch) & layout.sketchMask) << UInt64(layout.idBits)
            #expect((posting.bits & outside).nonzeroBitCount <= other.count)
            #expect((stringSketch & ~querySketch).nonzeroBitCount <= other.count)
            #expect(layout.fold(querySketch | stringSketch) == layout.fold(querySketch) | layout.fold(stringSketch))
        }
    }
}
