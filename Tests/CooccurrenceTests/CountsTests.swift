import Foundation
import Testing
@testable import Cooccurrence

@Suite struct CountsTests {
    @Test func countsLiftAndMergeAsTheReferenceDefines() throws {
        let folder = NSTemporaryDirectory() + "tg-cooccur-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Four samples of one task split over two chunks:
        //   T={a} H={x,y}; T={a} H={x}; T={b} H={y}; T={a,b} H={x}
        var first = CooccurrenceCounts(), second = CooccurrenceCounts()
        func ids(_ counts: inout CooccurrenceCounts, _ names: [String]) -> [UInt32] {
            names.map { counts.intern($0, name: $0.uppercased()) }
        }
        first.add(task: "dx", targets: ids(&first, ["a"]), history: ids(&first, ["x", "y"]))
        first.add(task: "dx", targets: ids(&first, ["a"]), history: ids(&first, ["x"]))
        second.add(task: "dx", targets: ids(&second, ["b"]), history: ids(&second, ["y"]))
        second.add(task: "dx", targets: ids(&second, ["a", "b"]), history: ids(&second, ["x"]))
        second.add(task: "other", targets: ids(&second, ["a"]), history: ids(&second, ["a"]))
        try first.write(to: folder + "/0.sqlite")
        try second.write(to: folder + "/1.sqlite")
        try CooccurrenceCounts.merge([folder + "/0.sqlite", folder + "/1.sqlite"], into: folder + "/m.sqlite")
        let matrix = try CooccurrenceMatrix(path: folder + "/m.sqlite")
        #expect(try matrix.tasks().map { "\($0.task)=\($0.samples)" } == ["dx=4", "other=1"])
        // n(a)=3, n(x)=3, c(a,x)=3, N=4: lift = 3*4/(3*3) = 1.333...
        let partners = try matrix.partners(task: "dx", concept: "a", asTarget: true, minimumSupport: 1, limit: 10)
        #expect(partners.map(\.concept) == ["x", "y"])
        #expect(partners[0].count == 3 && partners[0].nTarget == 3 && partners[0].nHistory == 3)
        #expect(abs(partners[0].lift - 4.0 / 3.0) < 1e-12)
        // c(a,y)=1, n(y)=2: lift = 1*4/(3*2)
        #expect(abs(partners[1].lift - 4.0 / 6.0) < 1e-12)
        // Min support drops pairs whose history concept is rarer.
        #expect(try matrix.partners(task: "dx", concept: "a", asTarget: true, minimumSupport: 3, limit: 10).map(\.concept) == ["x"])
        // The other direction: targets of history concept y.
        #expect(try matrix.partners(task: "dx", concept: "y", asTarget: false, minimumSupport: 1, limit: 10).map(\.concept) == ["b", "a"])
        #expect(try matrix.resolve("A") == ["a"])
        // The pair table agrees with a dictionary over many random pairs.
        var table = PairTable(capacity: 4)
        var reference: [UInt64: UInt32] = [:]
        var state: UInt64 = 7
        for _ in 0..<50_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let key = (state >> 40) % 3000
            table.add(key)
            reference[key, default: 0] += 1
        }
        var seen: [UInt64: UInt32] = [:]
        table.forEach { seen[$0] = $1 }
        #expect(seen == reference && table.count == reference.count)
        // A concept in both target and history of a sample pairs with itself.
        #expect(try matrix.partners(task: "other", concept: "a", asTarget: true, minimumSupport: 1, limit: 5).first?.count == 1)
    }
}
