import Foundation
import Testing
@testable import TGSupport

@Suite struct LineReaderTests {
    func write(_ data: Data) throws -> String {
        let path = NSTemporaryDirectory() + "/lines-\(UUID().uuidString)"
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func lines(_ path: String, maximum: Int = 64 << 20) throws -> [String] {
        let reader = try LineReader(path: path, maximumLineLength: maximum)
        var result: [String] = []
        while let line = try reader.nextLine() { result.append(String(decoding: line, as: UTF8.self)) }
        return result
    }

    @Test func splitsOnNewlinesStripsCarriageReturnsAndKeepsALastLineWithoutNewline() throws {
        let path = try write(Data("a|b\r\n\nthird".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try lines(path) == ["a|b", "", "third"])
    }

    @Test func linesLongerThanTheBufferAreReturnedWhole() throws {
        let long = String(repeating: "x", count: 3 << 20)
        let path = try write(Data("short\n\(long)\nend\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try lines(path)
        #expect(result.count == 3)
        #expect(result[1].count == long.count)
        #expect(result[2] == "end")
    }

    @Test func aLineOverTheLimitIsAnErrorNamingTheLine() throws {
        let path = try write(Data("ok\n\(String(repeating: "y", count: 5 << 20))\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: InputError(file: path, line: 2, message: "line longer than \(2 << 20) bytes")) {
            _ = try lines(path, maximum: 2 << 20)
        }
    }

    @Test func missingFileIsAnInputError() {
        #expect(throws: InputError.self) { _ = try LineReader(path: "/nonexistent/file.rrf") }
    }

    @Test func splitFieldsKeepsEmptyFields() {
        let bytes = Array("a||b|".utf8)
        var fields: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { splitFields($0, separator: UInt8(ascii: "|"), into: &fields) }
        #expect(fields == [0..<1, 2..<2, 3..<4, 5..<5])
    }
}
