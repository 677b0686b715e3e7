import Foundation
import TGSupport

/// Reads a Python pickle (protocols 2-5) that holds plain data only:
/// dicts with string keys, lists, tuples, sets, strings, numbers, booleans
/// and None, returned as `JSONValue` (tuples and sets as arrays, dict
/// order kept). Some open vocabularies ship as pickles (the
/// drug-named-entity-recognition dictionary); Python's own unpickler would
/// run whatever the file names, so this one understands only the opcodes
/// that build data and refuses every opcode that imports, calls or builds
/// an object (GLOBAL, REDUCE, BUILD, NEWOBJ, ...), naming it and its byte
/// offset. Nothing in the file can make it do anything but allocate.
public struct PickleReader {
    public let file: String

    public init(file: String) { self.file = file }

    /// A value under construction: containers are shared by reference, as
    /// the pickle's memo shares them (a dict is memoised empty and filled
    /// afterwards).
    private final class Node {
        enum Kind {
            case scalar(JSONValue)
            case list([Node])
            case dict([(String, Node)])
        }
        var kind: Kind
        init(_ kind: Kind) { self.kind = kind }
    }

    private enum Slot {
        case node(Node)
        case mark
    }

    public func read(_ bytes: [UInt8]) throws -> JSONValue {
        var position = 0
        var stack: [Slot] = []
        var memo: [Int: Node] = [:]

        func fail(_ message: String) -> InputError {
            InputError(file: file, field: "byte \(position)", message: message)
        }
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, position + count <= bytes.count else { throw fail("the pickle ends inside an opcode") }
            defer { position += count }
            return bytes[position..<position + count]
        }
        func littleEndian(_ count: Int) throws -> UInt64 {
            try take(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        func string(_ count: Int) throws -> Node {
            guard let text = String(validating: try take(count), as: UTF8.self) else { throw fail("a string that is not UTF-8") }
            return Node(.scalar(.string(text)))
        }
        func pop() throws -> Node {
            guard case .node(let node)? = stack.popLast() else { throw fail("a value was expected on the stack") }
            return node
        }
        func top() throws -> Node {
            guard case .node(let node)? = stack.last else { throw fail("a container was expected on the stack") }
            return node
        }
        /// The values pushed since the last mark, which is removed.
        func popToMark() throws -> [Node] {
            guard let mark = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else {
                throw fail("no mark on the stack")
            }
            let items = stack[(mark + 1)...].map { slot -> Node in
                if case .node(let node) = slot { return node }
                fatalError("unreachable: the mark found is the last")
            }
            stack.removeSubrange(mark...)
            return items
        }
        func append(_ items: [Node], to list: Node) throws {
            guard case .list(var values) = list.kind else { throw fail("APPEND to something that is not a list") }
            list.kind = .list([])
            values.append(contentsOf: items)
            list.kind = .list(values)
        }
        func set(_ items: [Node], in dict: Node) throws {
            guard case .dict(var members) = dict.kind else { throw fail("SETITEM on something that is not a dict") }
            guard items.count % 2 == 0 else { throw fail("SETITEMS with a key and no value") }
            dict.kind = .dict([])
            for pair in stride(from: 0, to: items.count, by: 2) {
                guard case .scalar(.string(let key)) = items[pair].kind else { throw fail("a dict key that is not a string") }
                members.append((key, items[pair + 1]))
            }
            dict.kind = .dict(members)
        }

        while position < bytes.count {
            let opcode = bytes[position]
            let at = position
            position += 1
            switch opcode {
            case 0x80: _ = try take(1)  // PROTO
            case 0x95: _ = try take(8)  // FRAME: a hint for buffered readers
            case UInt8(ascii: "."):  // STOP
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
                return try Self.json(try pop(), depth: 0, file: file)
            case UInt8(ascii: "("): stack.append(.mark)
            case UInt8(ascii: "}"): stack.append(.node(Node(.dict([]))))
            case UInt8(ascii: "]"), UInt8(ascii: ")"), 0x8f: stack.append(.node(Node(.list([]))))  // EMPTY_LIST/TUPLE/SET
            case UInt8(ascii: "N"): stack.append(.node(Node(.scalar(.null))))
            case 0x88: stack.append(.node(Node(.scalar(.bool(true)))))
            case 0x89: stack.append(.node(Node(.scalar(.bool(false)))))
            case UInt8(ascii: "K"): stack.append(.node(Node(.scalar(.integer(Int64(try littleEndian(1)))))))
            case UInt8(ascii: "M"): stack.append(.node(Node(.scalar(.integer(Int64(try littleEndian(2)))))))
            case UInt8(ascii: "J"):
                stack.append(.node(Node(.scalar(.integer(Int64(Int32(truncatingIfNeeded: try littleEndian(4))))))))
            case UInt8(ascii: "G"):
                let raw = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }  // big-endian
                stack.append(.node(Node(.scalar(.number(Double(bitPattern: raw))))))
            case 0x8c: stack.append(.node(try string(Int(try littleEndian(1)))))  // SHORT_BINUNICODE
            case UInt8(ascii: "X"): stack.append(.node(try string(Int(try littleEndian(4)))))  // BINUNICODE
            case 0x8d:  // BINUNICODE8
                let count = try littleEndian(8)
                guard count <= UInt64(bytes.count) else { throw fail("a string longer than the file") }
                stack.append(.node(try string(Int(count))))
            case 0x94: memo[memo.count] = try top()  // MEMOIZE
            case UInt8(ascii: "q"): memo[Int(try littleEndian(1))] = try top()  // BINPUT
            case UInt8(ascii: "r"): memo[Int(try littleEndian(4))] = try top()  // LONG_BINPUT
            case UInt8(ascii: "h"), UInt8(ascii: "j"):  // BINGET, LONG_BINGET
                let index = Int(try littleEndian(opcode == UInt8(ascii: "h") ? 1 : 4))
                guard let node = memo[index] else { throw fail("memo entry \(index) was never stored") }
                stack.append(.node(node))
            case UInt8(ascii: "a"):  // APPEND
                let item = try pop()
                try append([item], to: try top())
            case UInt8(ascii: "e"), 0x90:  // APPENDS, ADDITEMS
                let items = try popToMark()
                try append(items, to: try top())
            case UInt8(ascii: "s"):  // SETITEM
                let value = try pop(), key = try pop()
                try set([key, value], in: try top())
            case UInt8(ascii: "u"):  // SETITEMS
                let items = try popToMark()
                try set(items, in: try top())
            case UInt8(ascii: "t"), 0x91:  // TUPLE, FROZENSET
                stack.append(.node(Node(.list(try popToMark()))))
            case 0x85, 0x86, 0x87:  // TUPLE1-3
                var items: [Node] = []
                for _ in 0..<Int(opcode - 0x84) { items.insert(try pop(), at: 0) }
                stack.append(.node(Node(.list(items))))
            default:
                position = at
                throw fail(String(format: "opcode 0x%02x is not plain data (objects, imports and calls are refused)", opcode))
            }
        }
        throw fail("the pickle ends without STOP")
    }

    private static func json(_ node: Node, depth: Int, file: String) throws -> JSONValue {
        guard depth < 64 else { throw InputError(file: file, message: "values nested more than 64 deep") }
        switch node.kind {
        case .scalar(let value): return value
        case .list(let items): return .array(try items.map { try json($0, depth: depth + 1, file: file) })
        case .dict(let members): return .object(try members.map { ($0.0, try json($0.1, depth: depth + 1, file: file)) })
        }
    }
}
