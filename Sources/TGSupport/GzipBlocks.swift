#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// JSON lines stored as a series of gzip members, each holding whole lines
/// (about `blockSize` uncompressed bytes; a longer line alone), as BGZF
/// does for sequence data. The file is plain gzip to every reader (`zcat`,
/// Python's `gzip`, `LineReader`), about a tenth of the text, and still
/// random access: a record is found again by its member's offset, and only
/// that member is inflated.
///
/// A chunk worker appends members at each checkpoint, so a worker killed
/// mid-write leaves at most one torn member at the end, which resume cuts
/// off like a torn line.
public enum GzipBlocks {
    /// Uncompressed bytes per member before a new one starts.
    public static let blockSize = 1 << 18
    /// A member larger than this when inflated is not one of ours (a file
    /// gzipped whole): refused rather than read into memory.
    public static let largestMember = 256 << 20

    /// Appends `lines` (whole lines, each ending in a newline) to `output`
    /// as members of about `blockSize` bytes, split after newlines.
    public static func compress(_ lines: UnsafeRawBufferPointer, level: Int32 = 1, into output: inout [UInt8]) throws {
        var start = 0
        while start < lines.count {
            var end = min(lines.count, start + blockSize)
            if end < lines.count {
                // Back to the last newline inside the block; a longer line goes whole.
                if let newline = lastNewline(lines, from: start, before: end) {
                    end = newline + 1
                } else {
                    end = nextNewline(lines, from: end).map { $0 + 1 } ?? lines.count
                }
            }
            try member(UnsafeRawBufferPointer(rebasing: lines[start..<end]), level: level, into: &output)
            start = end
        }
    }

    private static func lastNewline(_ bytes: UnsafeRawBufferPointer, from start: Int, before end: Int) -> Int? {
        var index = end - 1
        while index >= start {
            if bytes[index] == 0x0A { return index }
            index -= 1
        }
        return nil
    }

    private static func nextNewline(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let hit = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) else { return nil }
        return bytes.baseAddress!.distance(to: UnsafeRawPointer(hit))
    }

    /// Appends `bytes` to `output` as one gzip member.
    public static func member(_ bytes: UnsafeRawBufferPointer, level: Int32 = 1, into output: inout [UInt8]) throws {
        // zlib keeps a pointer back to its stream: it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError("cannot start compressing")
        }
        defer { deflateEnd(stream) }
        let bound = Int(deflateBound(stream, uLong(bytes.count))) + 32
        let base = output.count
        output.append(contentsOf: repeatElement(0, count: bound))
        let status: Int32 = output.withUnsafeMutableBytes { out in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(bytes.count)
            stream.pointee.next_out = (out.baseAddress! + base).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(bound)
            return deflate(stream, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw GzipError("compression failed (zlib \(status))") }
        output.removeLast(Int(stream.pointee.avail_out))
    }

    /// The bytes of one member.
    public static func inflate(_ member: UnsafeRawBufferPointer) throws -> [UInt8] {
        var result: [UInt8] = []
        let scanner = Inflater()
        let consumed = try scanner.feed(member) { result.append(contentsOf: $0) }
        guard scanner.ended, consumed == member.count else { throw GzipError("not one whole gzip member") }
        return result
    }

    /// Every member of a file in order: `body(offset, compressed length,
    /// inflated bytes)`. Returns the offset of a torn last member (a
    /// worker killed mid-write), or nil when the file ends cleanly.
    @discardableResult
    public static func forEachMember(in path: String,
                                     _ body: (_ offset: Int, _ length: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> Int? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var input = [UInt8](repeating: 0, count: 1 << 20)
        let inflater = Inflater()
        var member: [UInt8] = []
        var memberStart = 0
        var position = 0
        while true {
            let count = input.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError(file: path, message: "read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            var used = 0
            while used < count {
                let consumed: Int
                do {
                    consumed = try input.withUnsafeBytes { raw in
                        try inflater.feed(UnsafeRawBufferPointer(rebasing: raw[used..<count])) { piece in
                            guard member.count + piece.count <= largestMember else {
                                throw GzipError("a gzip member inflates to more than \(largestMember >> 20) MiB: not written by thinkgraph "
                                                + "(a file gzipped whole cannot be read by record)")
                            }
                            member.append(contentsOf: piece)
                        }
                    }
                } catch let error as GzipError {
                    throw InputError(file: path, message: "byte \(memberStart): \(error.message)")
                }
                used += consumed
                position += consumed
                if inflater.ended {
                    try member.withUnsafeBytes { try body(memberStart, position - memberStart, $0) }
                    member.removeAll(keepingCapacity: true)
                    memberStart = position
                    inflater.reset()
                }
            }
        }
        return inflater.started ? memberStart : nil
    }

    /// Every line of a file of members in order: `body(member offset,
    /// member length, the line's offset in its member, the line without
    /// its newline)`. Returns the offset of a torn last member, as
    /// `forEachMember`.
    @discardableResult
    public static func forEachLine(in path: String,
                                   _ body: (_ offset: Int, _ length: Int, _ lineOffset: Int, _ line: UnsafeBufferPointer<UInt8>) throws -> Void)
        throws -> Int? {
        try forEachMember(in: path) { offset, length, bytes in
            let lines = bytes.bindMemory(to: UInt8.self)
            var start = 0
            while start < lines.count {
                let end = lines[start...].firstIndex(of: 0x0A) ?? lines.count
                try body(offset, length, start, UnsafeBufferPointer(rebasing: lines[start..<end]))
                start = end + 1
            }
        }
    }
}

/// Inflates gzip members fed to it piece by piece.
final class Inflater {
    // zlib keeps a pointer back to its stream: it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private var ready = false
    /// The current member ended (call `reset` for the next).
    private(set) var ended = false
    /// Bytes of a member not yet ended were fed.
    private(set) var started = false
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deallocate()
    }

    func reset() {
        if ready { inflateReset(stream) }
        ended = false
        started = false
    }

    /// Feeds `input` until it is used or the member ends; `output` gets the
    /// inflated bytes. Returns the input bytes consumed.
    func feed(_ input: UnsafeRawBufferPointer, output: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        if !ready {
            guard inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw GzipError("cannot start inflating")
            }
            ready = true
        }
        guard !input.isEmpty else { return 0 }
        started = true
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while true {
            let (status, produced): (Int32, Int) = buffer.withUnsafeMutableBytes { out in
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = inflate(stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.pointee.avail_out))
            }
            if produced > 0 { try buffer.withUnsafeBytes { try output(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            switch status {
            case Z_STREAM_END:
                ended = true
                return input.count - Int(stream.pointee.avail_in)
            case Z_OK where stream.pointee.avail_in == 0 && produced < buffer.count:
                return input.count
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                return input.count
            default:
                throw GzipError("not gzip, or damaged (zlib \(status))")
            }
        }
    }
}

public struct GzipError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
