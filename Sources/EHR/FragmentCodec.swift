/// The on-disk form of partition fragments: a compact binary encoding of
/// events and static facts, private to one import (written and read back by
/// the same process, never kept).
///
/// Why not JSON lines: an import writes and reads every fragment once more;
/// with JSON that round trip (formatting, parsing, validating UTF-8 that was
/// valid when written) was half the import's time.
///
/// Layout, little-endian: each fragment is `u32 length` then its payload:
/// `u8 kind` (1 event, 2 statics), patient id, then for an event: name,
/// `i64` time, optional admission, source and text, `u32` record count, and
/// per record an optional source and its items; for statics: source and
/// items. Strings are `u32 length` + UTF-8; optionals a `u8` flag first;
/// items are key, `u8` type (1 string, 2 integer, 3 number, 4 boolean) and
/// the value.
struct FragmentEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// Encodes one event fragment, length prefix included.
    mutating func event(patient: String, _ event: Event) {
        let start = beginFragment(kind: 1, patient: patient)
        string(event.name)
        integer(event.time.secondsSinceEpoch)
        optional(event.admission)
        optional(event.source)
        optional(event.text)
        u32(event.records.count)
        for record in event.records {
            optional(record.source)
            items(record.items)
        }
        endFragment(start)
    }

    mutating func statics(patient: String, _ items: [Item], source: String) {
        let start = beginFragment(kind: 2, patient: patient)
        string(source)
        self.items(items)
        endFragment(start)
    }

    private mutating func beginFragment(kind: UInt8, patient: String) -> Int {
        let start = bytes.count
        u32(0)
        bytes.append(kind)
        string(patient)
        return start
    }

    private mutating func endFragment(_ start: Int) {
        let length = UInt32(bytes.count - start - 4)
        for offset in 0..<4 { bytes[start + offset] = UInt8(truncatingIfNeeded: length >> (8 * offset)) }
    }

    private mutating func items(_ items: [Item]) {
        u32(items.count)
        for item in items {
            string(item.key)
            switch item.value {
            case .string(let text): bytes.append(1); string(text)
            case .integer(let value): bytes.append(2); integer(value)
            case .number(let value): bytes.append(3); integer(Int64(bitPattern: value.bitPattern))
            case .boolean(let value): bytes.append(4); bytes.append(value ? 1 : 0)
            }
        }
    }

    private mutating func u32(_ value: Int) {
        let v = UInt32(value)
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
    }

    private mutating func integer(_ value: Int64) {
        let v = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    private mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            u32(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    private mutating func optional(_ text: String?) {
        if let text {
            bytes.append(1)
            string(text)
        } else {
            bytes.append(0)
        }
    }
}

/// Reads fragments back from a partition file's bytes.
struct FragmentDecoder {
    enum Fragment {
        case event(patient: String, Event)
        case statics(patient: String, items: [Item], source: String)
    }

    struct Corrupt: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func next() throws -> Fragment? {
        guard position < bytes.count else { return nil }
        let length = try u32()
        let end = position + length
        guard end <= bytes.count else { throw Corrupt() }
        let kind = try byte()
        let patient = try string()
        let fragment: Fragment
        switch kind {
        case 1:
            let name = try string()
            let time = Timestamp(secondsSinceEpoch: try integer())
            let admission = try optional(), source = try optional(), text = try optional()
            let recordCount = try u32()
            var records: [Record] = []
            records.reserveCapacity(recordCount)
            for _ in 0..<recordCount {
                let recordSource = try optional()
                records.append(Record(items: try items(), source: recordSource))
            }
            fragment = .event(patient: patient, Event(name: name, time: time, admission: admission, records: records,
                                                      text: text, source: source))
        case 2:
            let source = try string()
            fragment = .statics(patient: patient, items: try items(), source: source)
        default:
            throw Corrupt()
        }
        guard position == end else { throw Corrupt() }
        return fragment
    }

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw Corrupt() }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func u32() throws -> Int {
        guard position + 4 <= bytes.count else { throw Corrupt() }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * UInt32(offset)) }
        position += 4
        return Int(value)
    }

    private mutating func integer() throws -> Int64 {
        guard position + 8 <= bytes.count else { throw Corrupt() }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
        position += 8
        return Int64(bitPattern: value)
    }

    private mutating func string() throws -> String {
        let count = try u32()
        guard position + count <= bytes.count else { throw Corrupt() }
        // Valid UTF-8 when it was written by this process.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + count]), as: UTF8.self)
        position += count
        return text
    }

    private mutating func optional() throws -> String? {
        try byte() == 1 ? try string() : nil
    }

    private mutating func items() throws -> [Item] {
        let count = try u32()
        var items: [Item] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            let key = try string()
            switch try byte() {
            case 1: items.append(Item(key, .string(try string())))
            case 2: items.append(Item(key, .integer(try integer())))
            case 3: items.append(Item(key, .number(Double(bitPattern: UInt64(bitPattern: try integer())))))
            case 4: items.append(Item(key, .boolean(try byte() != 0)))
            default: throw Corrupt()
            }
        }
        return items
    }
}
