import Foundation

/// `gzip -dc PATH`: a file as the system's gzip reads it (the proof that
/// what thinkgraph writes is plain gzip to other tools).
public enum Gunzip {
    public struct Failed: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "gzip -dc \(path) failed" }
    }

    public static func text(of path: String) throws -> String {
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-dc", path]
        let out = Pipe()
        gzip.standardOutput = out
        try gzip.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        guard gzip.terminationStatus == 0 else { throw Failed(path: path) }
        return String(decoding: data, as: UTF8.self)
    }
}
