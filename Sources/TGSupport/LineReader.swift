#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// Reads a text file line by line without building a `String` per line.
///
/// Vocabulary files run to gigabytes (UMLS MRREL holds ~60M rows), so the
/// reader hands out each line as a view into its own buffer; the caller
/// decodes only the fields it needs. It counts lines so errors can name them,
/// strips a trailing `\r`, and can fingerprint every byte it reads so the
/// manifest's SHA-256 costs no second pass over the file.
///
/// A path ending in `.gz` is decompressed as it is read (MIMIC-IV ships
/// its tables gzipped); the digest then covers the decompressed bytes.
public final class LineReader {
    public let path: String
    /// 1-based number of the line most recently returned.
    public private(set) var lineNumber = 0
    /// Bytes consumed from the file so far.
    public private(set) var bytesRead: UInt64 = 0
    /// Longest line accepted; a longer one is reported as an input error
    /// instead of growing the buffer without bound.
    public let maximumLineLength: Int

    private var descriptor: Int32
    private var compressed: gzFile?
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var reachedEnd = false
    private var hasher: SHA256?

    public init(path: String, computeDigest: Bool = false, maximumLineLength: Int = 64 << 20) throws {
        self.path = path
        self.maximumLineLength = maximumLineLength
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw InputError(file: path, message: "is a directory, expected a file")
        }
        if path.hasSuffix(".gz") {
            guard let file = gzdopen(descriptor, "rb") else {
                close(descriptor)
                throw InputError(file: path, message: "cannot open as gzip")
            }
            compressed = file
            descriptor = -1
            gzbuffer(file, 1 << 17)
        }
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        hasher = computeDigest ? SHA256() : nil
    }

    deinit {
        if let compressed { gzclose(compressed) }
        if descriptor >= 0 { close(descriptor) }
        buffer.deallocate()
    }

    /// The SHA-256 of everything read so far (call after the last line).
    public func hexDigest() -> String? {
        hasher.map { $0.hexDigest() }
    }

    /// Returns the next line without its terminator, or nil at the end of the
    /// file. The bytes stay valid only until the next call.
    public func nextLine() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            if let newline = findNewline() {
                let lineStart = start
                start = newline + 1
                return try finishLine(from: lineStart, to: newline)
            }
            if reachedEnd {
                guard start < end else { return nil }
                let lineStart = start
                start = end
                return try finishLine(from: lineStart, to: end)
            }
            try fill()
        }
    }

    private func finishLine(from lineStart: Int, to lineEnd: Int) throws -> UnsafeBufferPointer<UInt8> {
        lineNumber += 1
        // The limit holds for every line, not only one that outgrows the buffer.
        guard lineEnd - lineStart <= maximumLineLength else {
            throw InputError(file: path, line: lineNumber, message: "line longer than \(maximumLineLength) bytes")
        }
        var stop = lineEnd
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if stop > lineStart, base[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
        return UnsafeBufferPointer(start: base + lineStart, count: stop - lineStart)
    }

    private func findNewline() -> Int? {
        guard start < end else { return nil }
        let base = buffer.baseAddress!
        guard let hit = memchr(base + start, 0x0A, end - start) else { return nil }
        return base.distance(to: UnsafeMutableRawPointer(hit))
    }

    private func fill() throws {
        // Move the unfinished line to the front, growing the buffer if one
        // line fills it.
        let pendingCount = end - start
        if start > 0 {
            if pendingCount > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: pendingCount) }
            start = 0
            end = pendingCount
        }
        if end == buffer.count {
            guard buffer.count < maximumLineLength + 1 else {
                throw InputError(file: path, line: lineNumber + 1,
                                 message: "line longer than \(maximumLineLength) bytes")
            }
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, maximumLineLength + 1), alignment: 16)
            grown.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = grown
        }
        let count: Int
        if let compressed {
            count = Int(gzread(compressed, buffer.baseAddress! + end, UInt32(min(buffer.count - end, Int(Int32.max)))))
            if count < 0 {
                var code: Int32 = 0
                let message = gzerror(compressed, &code).map { String(cString: $0) } ?? "unknown error"
                throw InputError(file: path, line: lineNumber + 1, message: "gzip: \(message)")
            }
            if count == 0 {
                // A stream cut short (no trailer: CRC and length) ends like a
                // complete one, except that zlib reports Z_BUF_ERROR.
                var code: Int32 = 0
                _ = gzerror(compressed, &code)
                if code == Z_BUF_ERROR {
                    throw InputError(file: path, line: lineNumber + 1,
                                     message: "gzip stream ends before its end (the file is truncated)")
                }
            } else if bytesRead == 0, gzdirect(compressed) == 1 {
                throw InputError(file: path, message: "not gzip data, though the name ends in .gz")
            }
        } else {
            count = read(descriptor, buffer.baseAddress! + end, buffer.count - end)
        }
        if count < 0 {
            if errno == EINTR { return }
            throw InputError(file: path, line: lineNumber + 1, message: "read failed: \(String(cString: strerror(errno)))")
        }
        if count == 0 {
            reachedEnd = true
            return
        }
        hasher?.update(UnsafeRawBufferPointer(start: buffer.baseAddress! + end, count: count))
        end += count
        bytesRead += UInt64(count)
    }
}

/// Splits a line on a one-byte separator into field ranges, reusing `fields`.
@inlinable
public func splitFields(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, into fields: inout [Range<Int>]) {
    fields.removeAll(keepingCapacity: true)
    var fieldStart = 0
    var index = 0
    let count = line.count
    while index < count {
        if line[index] == separator {
            fields.append(fieldStart..<index)
            fieldStart = index + 1
        }
        index += 1
    }
    fields.append(fieldStart..<count)
}

/// Decodes bytes as UTF-8, or returns nil if they are not valid UTF-8.
@inlinable
public func decodeUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    // Most fields are ASCII: check eight bytes at a time and skip the
    // general validator (several times slower) when no high bit is set.
    guard let base = bytes.baseAddress else { return "" }
    let count = bytes.count
    var index = 0
    var high: UInt64 = 0
    let raw = UnsafeRawPointer(base)
    while index + 8 <= count {
        high |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        index += 8
    }
    while index < count {
        high |= UInt64(base[index])
        index += 1
    }
    if high & 0x8080_8080_8080_8080 == 0 { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
}

/// Computes the SHA-256 of a whole file's bytes as they are on disk (a
/// gzipped file's compressed bytes: hashing what it inflates to would cost
/// eight times the work for the same assurance).
public func sha256OfFile(atPath path: String) throws -> String {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw InputError(file: path, message: "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var info = stat()
    if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        throw InputError(file: path, message: "is a directory, expected a file")
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var hasher = SHA256()
    while true {
        let count = read(descriptor, buffer.baseAddress, buffer.count)
        if count < 0 {
            if errno == EINTR { continue }
            throw InputError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        if count == 0 { break }
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
    return hasher.hexDigest()
}
