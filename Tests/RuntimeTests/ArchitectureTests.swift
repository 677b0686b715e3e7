import Foundation
import Testing

/// The module graph as three sources state it must agree: Package.swift's
/// dependencies, the imports in each module's sources, and the table in
/// docs/ARCHITECTURE.md. A module that declares what it does not import, or
/// a doc that drifted, fails here.
@Suite struct ArchitectureTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// Non-test targets and their dependencies (products by name).
    static func packageGraph() throws -> [String: Set<String>] {
        let package = try text("Package.swift")
        var graph: [String: Set<String>] = [:]
        let target = try Regex(#"\.(?:target|executableTarget)\(name: "([A-Za-z0-9]+)", dependencies: \[([^\]]*)\]"#)
        for match in package.matches(of: target) {
            let name = String(match.output[1].substring ?? "")
            // Test helpers (`Tests/TestSupport`) are not modules of the tool.
            guard FileManager.default.fileExists(atPath: repository.appendingPathComponent("Sources/" + name).path) else { continue }
            let list = String(match.output[2].substring ?? "")
            var dependencies = Set<String>()
            for quoted in list.matches(of: try Regex(#"(?:name: )?"([A-Za-z0-9-]+)""#)) {
                let value = String(quoted.output[1].substring ?? "")
                // `.product(name: "X", package: "y")`: keep X, drop y.
                if list.contains("package: \"\(value)\"") { continue }
                dependencies.insert(value)
            }
            graph[name] = dependencies
        }
        return graph
    }

    @Test func theArchitectureTableIsPackageSwifts() throws {
        let package = try Self.packageGraph()
        #expect(package.count >= 14)
        var documented: [String: Set<String>] = [:]
        for line in try Self.text("docs/ARCHITECTURE.md").split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, package[cells[0]] != nil else { continue }
            documented[cells[0]] = Set(cells[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        for (module, dependencies) in package {
            #expect(documented[module] == dependencies, "docs/ARCHITECTURE.md on \(module)")
        }
    }

    @Test func everyModuleImportsWhatItDeclaresAndNothingElse() throws {
        let system: Set<String> = ["Foundation", "FoundationNetworking", "Glibc", "Darwin", "Dispatch", "Synchronization"]
        let products = ["ArgumentParser", "Logging"]
        for (module, declared) in try Self.packageGraph() {
            let folder = Self.repository.appendingPathComponent("Sources/" + module)
            guard let files = FileManager.default.enumerator(atPath: folder.path) else { continue }
            var imported = Set<String>()
            for case let file as String in files where file.hasSuffix(".swift") {
                let source = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in source.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@preconcurrency import ") {
                    let name = line.split(separator: " ").last.map(String.init) ?? ""
                    if !system.contains(name) { imported.insert(name) }
                }
            }
            #expect(imported == declared, "\(module): imports \(imported.sorted()), declares \(declared.sorted()) (products: \(products))")
        }
    }
}
