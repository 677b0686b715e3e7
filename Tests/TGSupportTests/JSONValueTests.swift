import Testing
import TGSupport

@Suite struct JSONValueTests {
    @Test func parsesAndKeepsMemberOrder() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": [true, false, null, -2.5e1, "x\ty\u00e9\ud83d\ude00"], "m": {}}"#)
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["z", "a", "m"])
        #expect(value["z"] == .integer(1))
        #expect(value["a"] == .array([.bool(true), .bool(false), .null, .number(-25), .string("x\tyé😀")]))
        #expect(value["m"] == .object([]))
    }

    @Test func writesWhatItReads() throws {
        let text = #"{"b":"quote \" backslash \\ newline \n control \u0001","a":[1,2.5,-0.001,1e+300],"c":{"d":null}}"#
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.jsonText) == value)
        #expect(JSONValue.number(3).jsonText == "3.0")
        #expect(try JSONValue.parse("3.0") == .number(3))
    }

    @Test func reportsWhereTheSyntaxBreaks() {
        let cases: [(String, Int)] = [("{\"a\": }", 6), ("[1, 2", 5), ("{\"a\" 1}", 5), ("\"abc", 4), ("tru", 0),
                                      ("{} x", 3), ("\"\\ud800\"", 7), ("01x", 1), ("-", 1), ("[\"a\u{1}\"]", 3)]
        for (text, offset) in cases {
            do {
                _ = try JSONValue.parse(text)
                Issue.record("\(text) parsed")
            } catch let error as JSONSyntaxError {
                #expect(error.offset == offset, "\(text): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        let bytes: [UInt8] = Array("{\"a\": \"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8)
        #expect(throws: JSONSyntaxError.self) { try bytes.withUnsafeBufferPointer { try JSONValue.parse($0) } }
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
    }
}

@Suite struct LeadingStringTests {
    @Test func readsOnlyAnUnescapedLeadingValue() {
        func lead(_ text: String, _ key: String) -> String? {
            var text = text
            return text.withUTF8 { JSONValue.leadingString($0, key: key) }
        }
        #expect(lead(#"{"id":"p1","events":[]}"#, "id") == "p1")
        #expect(lead(#"{"patient":"10000032","static":{}}"#, "patient") == "10000032")
        #expect(lead(#"{"id":"a\"b"}"#, "id") == nil)
        #expect(lead(#"{ "id":"p1"}"#, "id") == nil)
        #expect(lead(#"{"idx":"p1"}"#, "id") == nil)
        #expect(lead(#"{"id":"unterminated"#, "id") == nil)
        #expect(lead(#"{"id":12}"#, "id") == nil)
    }
}
