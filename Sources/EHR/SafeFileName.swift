/// Turns an identifier (a patient id, a sample id) into a file name that
/// stays inside its folder whatever the id holds.
///
/// Letters, digits, `-`, `_` and `.` pass through; every other byte of the
/// UTF-8 form becomes `%XX`, so `/` can never separate folders; a name made
/// only of dots (`.`, `..`) or starting with a dot gets its first dot
/// encoded, so it is never a folder reference or a hidden file. The mapping
/// is one-to-one (`%` itself is encoded), so two ids never share a file.
public enum SafeFileName {
    public static func encode(_ id: String) -> String {
        var name = ""
        for byte in id.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                name.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: ".") where !name.isEmpty:
                name += "."
            default:
                name += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
            }
        }
        return name.isEmpty ? "%00" : name
    }

    /// The id a name was made from, or nil if `name` is not one of ours.
    public static func decode(_ name: String) -> String? {
        if name == "%00" { return "" }
        var bytes: [UInt8] = []
        var iterator = Array(name.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                      let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
