import Foundation
import Testing
import TGSupport
@testable import EHR

@Suite struct CSVReaderTests {
    @Test func readsRFC4180WithMultiLineFields() throws {
        let folder = NSTemporaryDirectory() + "tg-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = "a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\r\n\"\",\"multi\n\nline\",é\n,,\n"
        try text.write(toFile: folder + "/t.csv", atomically: true, encoding: .utf8)
        let csv = try CSVReader(path: folder + "/t.csv")
        #expect(csv.header == ["a", "b", "c"])
        #expect(try csv.next() == ["1", "x, \"y\"", ""])
        #expect(csv.recordLine == 2)
        #expect(try csv.next() == ["", "multi\n\nline", "é"])
        #expect(csv.recordLine == 4)
        #expect(try csv.next() == ["", "", ""])
        #expect(try csv.next() == nil)
        #expect(throws: InputError.self) { try csv.columns(["a", "missing"]) }
    }

    @Test func namesBadRows() throws {
        let folder = NSTemporaryDirectory() + "tg-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = Array("a,b\n1,2,3\nok,\"unterminated\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/t.csv"))
        let csv = try CSVReader(path: folder + "/t.csv")
        #expect(throws: InputError(file: folder + "/t.csv", line: 2, message: "3 fields, the header has 2")) { try csv.next() }
        #expect(throws: InputError(file: folder + "/t.csv", line: 3, message: "unterminated quoted field")) { try csv.next() }
        bytes = Array("a,b\n1,".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/u.csv"))
        let invalid = try CSVReader(path: folder + "/u.csv")
        #expect(throws: InputError(file: folder + "/u.csv", line: 2, field: "b", message: "invalid UTF-8")) { try invalid.next() }
    }
}
