import EHR
import Foundation
import TGSupport

/// One variable of the MIMIC benchmark's time series (heart rate, pH, the
/// Glasgow coma scale's parts ...): which events and item labels measure
/// it, how a recorded value becomes its number, and the ranges that drop
/// outliers and clip the rest.
public struct ICUVariable: Sendable, Equatable {
    /// How a record's value becomes the variable's number.
    public enum Conversion: String, Sendable, CaseIterable {
        case number, systolic, diastolic, capillary, fio2, temperature, weight, height, gcs
        /// Derived: the sum of the three GCS parts charted at one time.
        case gcsTotal = "gcs_total"
    }

    /// An event name and an item label (lower-cased), optionally a lab's fluid.
    public struct Source: Sendable, Equatable, Hashable {
        public var event: String
        public var label: String
        public var fluid: String?
    }

    public var name: String
    /// The value that fills the hours before the first measurement.
    public var normal: Double
    public var outlierLow: Double
    public var validLow: Double
    public var validHigh: Double
    public var outlierHigh: Double
    public var conversion: Conversion
    public var sources: [Source]

    /// The number a record holds for this variable, converted and checked
    /// against the ranges: nil when it holds none or an outlier.
    public func value(of record: Record, label: String) -> Double? {
        guard let raw = rawValue(of: record, label: label) else { return nil }
        guard raw.isFinite, raw >= outlierLow, raw <= outlierHigh else { return nil }
        return min(max(raw, validLow), validHigh)
    }

    func rawValue(of record: Record, label: String) -> Double? {
        let text = record["value"]?.description ?? ""
        let number = Self.number(record["valuenum"]) ?? Self.leadingNumber(text)
        let unit = (record["valueuom"]?.description ?? "").lowercased()
        switch conversion {
        case .number, .gcsTotal:
            return number
        case .gcs:
            // MIMIC-IV charts the score as valuenum; MIMIC-III as "4 Spontaneously".
            return number
        case .systolic, .diastolic:
            if let pair = Self.pressurePair(text) { return conversion == .systolic ? pair.0 : pair.1 }
            return number
        case .capillary:
            let lowered = text.lowercased()
            if lowered.contains("abnormal") || lowered.contains(">3") || lowered.contains("> 3") { return 1 }
            if lowered.contains("normal") || lowered.contains("<3") || lowered.contains("< 3") { return 0 }
            return number.flatMap { $0 == 0 || $0 == 1 ? $0 : nil }
        case .fio2:
            guard let number else { return nil }
            return number > 1 && !unit.contains("torr") ? number / 100 : number
        case .temperature:
            guard let number else { return nil }
            let fahrenheit = unit.contains("f") || label.contains("fahrenheit") || number >= 79
            return fahrenheit ? (number - 32) * 5 / 9 : number
        case .weight:
            guard let number else { return nil }
            if unit.contains("oz") || label.contains("oz") { return number / 16 * 0.453592 }
            if unit.contains("lb") || label.contains("lb") { return number * 0.453592 }
            return number
        case .height:
            guard let number else { return nil }
            return unit.contains("in") || label.contains("inch") ? (number * 2.54).rounded() : number
        }
    }

    static func number(_ value: FieldValue?) -> Double? {
        switch value {
        case .integer(let number)?: return Double(number)
        case .number(let number)?: return number
        case .string(let text)?: return Double(text)
        default: return nil
        }
    }

    /// The number a text starts with ("4 Spontaneously", "98.6"), if any.
    static func leadingNumber(_ text: String) -> Double? {
        let trimmed = text.drop { $0 == " " }
        let digits = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty, digits != "." else { return nil }
        return Double(digits)
    }

    /// "120/80" as (120, 80).
    static func pressurePair(_ text: String) -> (Double, Double)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let first = Double(parts[0].trimmingCharacters(in: .whitespaces)),
              let second = Double(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
        return (first, second)
    }
}

/// The variables of the time series, in column order: the shipped
/// `llm4ehr-variables.tsv` (the MIMIC benchmark's 17) or a user's file of
/// the same form.
public struct ICUVariableSet: Sendable {
    public var variables: [ICUVariable]
    /// The file read, or "shipped".
    public var source: String
    /// "event\tlabel" → the variables it measures (with a fluid when one is required).
    private var bySource: [String: [(variable: Int, fluid: String?)]] = [:]
    /// The derived GCS total and its parts, by position.
    var gcsTotal: Int?
    var gcsParts: [Int] = []

    public static let shippedName = "llm4ehr-variables.tsv"

    public static func shippedText() throws -> String {
        guard let url = Bundle.module.url(forResource: "llm4ehr-variables", withExtension: "tsv") else {
            throw InputError(file: shippedName, message: "missing from the build's resources")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The variables in `path`, or the shipped ones.
    public static func load(_ path: String?) throws -> ICUVariableSet {
        guard let path else { return try parse(shippedText(), file: shippedName, source: "shipped") }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, message: "cannot read the variable file (missing, or not UTF-8)")
        }
        return try parse(text, file: path, source: path)
    }

    /// Parses the TSV form (see the shipped file's comment); every problem
    /// names the file, the line and the field.
    public static func parse(_ text: String, file: String, source: String) throws -> ICUVariableSet {
        let header = ["variable", "normal", "outlier_low", "valid_low", "valid_high", "outlier_high", "conversion", "sources"]
        var set = ICUVariableSet(variables: [], source: source)
        for (number, fields) in try tsvRows(text, file: file, header: header) {
            func real(_ index: Int) throws -> Double {
                guard let value = Double(fields[index]), value.isFinite else {
                    throw InputError(file: file, line: number, field: header[index], message: "not a number: \"\(fields[index])\"")
                }
                return value
            }
            guard !fields[0].isEmpty else { throw InputError(file: file, line: number, field: "variable", message: "empty") }
            guard !set.variables.contains(where: { $0.name == fields[0] }) else {
                throw InputError(file: file, line: number, field: "variable", message: "\"\(fields[0])\" listed twice")
            }
            guard let conversion = ICUVariable.Conversion(rawValue: fields[6]) else {
                throw InputError(file: file, line: number, field: "conversion", message: "\"\(fields[6])\" is not one of "
                                 + ICUVariable.Conversion.allCases.map(\.rawValue).joined(separator: ", "))
            }
            var sources: [ICUVariable.Source] = []
            for part in fields[7].split(separator: "|") where !part.isEmpty {
                let pieces = part.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else {
                    throw InputError(file: file, line: number, field: "sources", message: "\"\(part)\" is not event:label")
                }
                let labelAndFluid = pieces[1].split(separator: "@", maxSplits: 1)
                sources.append(ICUVariable.Source(event: String(pieces[0]), label: labelAndFluid[0].lowercased(),
                                                  fluid: labelAndFluid.count == 2 ? labelAndFluid[1].lowercased() : nil))
            }
            guard !sources.isEmpty || conversion == .gcsTotal else {
                throw InputError(file: file, line: number, field: "sources", message: "empty (only a gcs_total variable may have none)")
            }
            let variable = ICUVariable(name: fields[0], normal: try real(1), outlierLow: try real(2), validLow: try real(3),
                                       validHigh: try real(4), outlierHigh: try real(5), conversion: conversion, sources: sources)
            guard variable.outlierLow <= variable.validLow, variable.validLow <= variable.validHigh,
                  variable.validHigh <= variable.outlierHigh else {
                throw InputError(file: file, line: number, field: "valid_low",
                                 message: "the ranges must nest: outlier_low <= valid_low <= valid_high <= outlier_high")
            }
            set.variables.append(variable)
        }
        guard !set.variables.isEmpty else { throw InputError(file: file, message: "no variables") }
        set.index()
        if set.gcsTotal != nil, set.gcsParts.count != 3 {
            throw InputError(file: file, field: "conversion", message: "a gcs_total variable needs three gcs variables (its parts)")
        }
        return set
    }

    private mutating func index() {
        for (position, variable) in variables.enumerated() {
            for source in variable.sources {
                bySource[source.event + "\t" + source.label, default: []].append((position, source.fluid))
            }
            if variable.conversion == .gcsTotal { gcsTotal = position }
            if variable.conversion == .gcs { gcsParts.append(position) }
        }
    }

    /// The event names any variable reads.
    public var eventNames: Set<String> { Set(variables.flatMap { $0.sources.map(\.event) }) }

    /// The measurements an event holds: (variable position, value), in
    /// record order. Records are matched by their `item_name` (MIMIC's
    /// d_items / d_labitems label), without regard to case.
    public func measurements(in event: Event) -> [(variable: Int, value: Double)] {
        var found: [(variable: Int, value: Double)] = []
        for record in event.records {
            guard let label = record["item_name"]?.description.lowercased(),
                  let candidates = bySource[event.name + "\t" + label] else { continue }
            for (position, fluid) in candidates {
                if let fluid, record["fluid"]?.description.lowercased() != fluid { continue }
                if let value = variables[position].value(of: record, label: label) { found.append((position, value)) }
            }
        }
        return found
    }

    /// The GCS total of a time's measurements when it has no charted total
    /// but all three parts (MIMIC-IV's MetaVision charts only the parts).
    func derivedTotal(_ values: [Int: Double]) -> Double? {
        guard let total = gcsTotal, values[total] == nil, gcsParts.count == 3 else { return nil }
        let parts = gcsParts.compactMap { values[$0] }
        guard parts.count == 3 else { return nil }
        let variable = variables[total]
        let sum = parts.reduce(0, +)
        guard sum >= variable.outlierLow, sum <= variable.outlierHigh else { return nil }
        return min(max(sum, variable.validLow), variable.validHigh)
    }
}
