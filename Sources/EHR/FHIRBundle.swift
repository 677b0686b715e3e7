import Foundation
import TGSupport

/// One FHIR R4 `Bundle` file (as Synthea writes one per patient, or a FHIR
/// server returns a search page): its resources, with the references that
/// point at other entries of the same bundle (`urn:uuid:...`, `urn:oid:...`)
/// rewritten to `Type/id`, so the mapper reads them as it reads a bulk
/// export's.
///
/// A `urn:` reference names an entry of its own bundle (FHIR R4, Bundle
/// §3.3.1.4.1): one that names none is *dangling*, and the resource holding
/// it is refused with the reference's path, not imported with a patient or
/// encounter the data does not have.
public struct FHIRBundle {
    /// The bundle types whose entries are resources to import. A `history`
    /// bundle holds versions of one resource and a `transaction-response`
    /// only outcomes; neither is a patient's record.
    public static let acceptedTypes: Set<String> = ["transaction", "batch", "collection", "searchset", "document"]

    /// One entry: where it is in the file, and its resource or why it
    /// cannot be read.
    public struct Entry {
        public var index: Int
        /// The resource's type and id as written (named in errors even when
        /// the resource cannot be resolved).
        public var type: String
        public var id: String?
        public var resource: Result<JSONValue, FHIRMappingError>

        /// The entry's JSON path in the file, e.g. `entry[3]`.
        public var path: String { "entry[\(index)]" }
    }

    public var type: String
    public var entries: [Entry]

    /// Reads a bundle file (`.json` or `.json.gz`). A file that is not JSON,
    /// not a Bundle or a bundle of another type is an error naming the file
    /// (and the line of a syntax error).
    public init(file: String) throws {
        let reader = try LineReader(path: file, maximumLineLength: 256 << 20)
        var bytes: [UInt8] = []
        var lineStarts: [Int] = []
        while let line = try reader.nextLine() {
            lineStarts.append(bytes.count)
            bytes.append(contentsOf: line)
            bytes.append(0x0A)
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch let error as JSONSyntaxError {
            // The line holding the offending byte (lines are 1-based).
            var low = 0, high = lineStarts.count
            while low + 1 < high {
                let middle = (low + high) / 2
                if lineStarts[middle] <= error.offset { low = middle } else { high = middle }
            }
            throw InputError(file: file, line: lineStarts.isEmpty ? nil : low + 1, message: error.message)
        }
        try self.init(value, file: file)
    }

    /// A `.json` file that is no FHIR resource at all (a bulk export's
    /// `manifest.json`, a generator's metadata), as opposed to a resource
    /// that is not a Bundle.
    public struct NotFHIR: Error, CustomStringConvertible {
        public var error: InputError
        public var description: String { error.description }
    }

    /// A bundle already parsed; `file` names it in errors.
    public init(_ value: JSONValue, file: String) throws {
        guard value.objectValue != nil else {
            throw NotFHIR(error: InputError(file: file, message: "not a FHIR Bundle: the file holds \(value.kindName), not a JSON object"))
        }
        guard let resourceType = value["resourceType"]?.stringValue else {
            throw NotFHIR(error: InputError(file: file, field: "resourceType", message: "missing: not a FHIR resource"))
        }
        guard resourceType == "Bundle" else {
            throw InputError(file: file, field: "resourceType",
                             message: "\"\(resourceType)\", not \"Bundle\" (import fhir reads Bundle .json files and bulk-export .ndjson files)")
        }
        guard let type = value["type"]?.stringValue else {
            throw InputError(file: file, field: "type", message: "missing (a Bundle says whether it is a transaction, collection, searchset ...)")
        }
        guard Self.acceptedTypes.contains(type) else {
            throw InputError(file: file, field: "type",
                             message: "a \"\(type)\" bundle holds no patient record to import (accepted: \(Self.acceptedTypes.sorted().joined(separator: ", ")))")
        }
        let raw = value["entry"]?.arrayValue ?? []
        if let entries = value["entry"], entries.arrayValue == nil {
            throw InputError(file: file, field: "entry", message: "\(entries.kindName), not an array")
        }
        // Where each entry's full URL points: the references to resolve.
        var targets: [String: String] = [:]
        for entry in raw {
            guard let url = entry["fullUrl"]?.stringValue, url.hasPrefix("urn:"),
                  let resourceType = entry["resource"]?["resourceType"]?.stringValue,
                  let id = entry["resource"]?["id"]?.stringValue ?? Self.urnID(url) else { continue }
            targets[url] = "\(resourceType)/\(id)"
        }
        self.type = type
        entries = []
        for (index, entry) in raw.enumerated() {
            // A transaction's DELETE or a search's outcome-only entry has no resource.
            guard var resource = entry["resource"], resource.objectValue != nil else { continue }
            if resource["id"] == nil, let url = entry["fullUrl"]?.stringValue, let id = Self.urnID(url),
               case .object(var members) = resource {
                // Transaction entries may leave the id to the server; the
                // full URL is then the resource's only name.
                members.append(("id", .string(id)))
                resource = .object(members)
            }
            let resourceType = resource["resourceType"]?.stringValue ?? "?", id = resource["id"]?.stringValue
            do {
                entries.append(Entry(index: index, type: resourceType, id: id,
                                     resource: .success(try Self.resolving(resource, targets: targets, path: ""))))
            } catch {
                entries.append(Entry(index: index, type: resourceType, id: id, resource: .failure(error)))
            }
        }
    }

    /// The id part of a `urn:uuid:` full URL (a UUID is a valid FHIR id).
    static func urnID(_ url: String) -> String? {
        guard url.hasPrefix("urn:uuid:") else { return nil }
        let id = String(url.dropFirst("urn:uuid:".count))
        return FHIR.isID(Substring(id)) ? id : nil
    }

    /// `value` with every `reference` that names another entry rewritten as
    /// `Type/id`; a `urn:` reference that names none is an error at its path.
    static func resolving(_ value: JSONValue, targets: [String: String], path: String) throws(FHIRMappingError) -> JSONValue {
        switch value {
        case .object(let members):
            var resolved: [(String, JSONValue)] = []
            resolved.reserveCapacity(members.count)
            for (key, member) in members {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key == "reference", let text = member.stringValue, text.hasPrefix("urn:") {
                    guard let target = targets[text] else {
                        throw FHIRMappingError(field: memberPath, message: "\"\(text)\" names no entry of this Bundle",
                                               kind: "dangling reference")
                    }
                    resolved.append((key, .string(target)))
                } else {
                    resolved.append((key, try resolving(member, targets: targets, path: memberPath)))
                }
            }
            return .object(resolved)
        case .array(let elements):
            var resolved: [JSONValue] = []
            resolved.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                resolved.append(try resolving(element, targets: targets, path: "\(path)[\(index)]"))
            }
            return .array(resolved)
        default:
            return value
        }
    }
}
