import Foundation
import TGSupport

/// A resource that cannot become part of a timeline, and why.
public struct FHIRMappingError: Error, Sendable {
    public var field: String?
    public var message: String
    /// A short class for the rejects summary ("no subject", "bad time" ...).
    public var kind: String
}

/// Turns one FHIR R4 resource into timeline fragments, named after the
/// MIMIC-IV tables EHR-R1's tasks predict, so tasks work the same on both:
///
/// | resource | event | main key |
/// |---|---|---|
/// | Patient | (static facts) | gender, birth_date |
/// | Encounter | admissions, transfers, services | admission_type, careunit, curr_service |
/// | Condition | diagnoses_icd | long_title (icd_code, icd_version) |
/// | MedicationRequest | prescriptions | drug |
/// | MedicationAdministration | emar | medication |
/// | Observation (laboratory) | labevents | item_name |
/// | Observation (vital signs) | omr | result_name |
/// | Observation (other) | observations | name |
/// | Procedure | procedures | long_title |
/// | ServiceRequest | poe | order_type |
/// | DiagnosticReport | radiology / lab_reports (text) | exam_name |
/// | DocumentReference, Composition | discharge / notes (text) | note_type |
///
/// Times convert to UTC (see `Timestamp`); codes are kept with their
/// system next to the display string; every record names its resource.
public struct FHIRMapper: Sendable {
    /// Longest note text accepted, in UTF-8 bytes.
    public var maximumTextBytes: Int

    public init(maximumTextBytes: Int = 4 << 20) {
        self.maximumTextBytes = maximumTextBytes
    }

    public enum Output: Sendable {
        case statics(patient: String, items: [Item])
        case events(patient: String, events: [Event])
        /// A resource type that holds no patient events (Practitioner,
        /// Organization ...): counted, not imported.
        case skipped(type: String)
    }

    /// Resource types with nothing for a timeline.
    public static let skippedTypes: Set<String> = [
        "Practitioner", "PractitionerRole", "Organization", "Location", "Device", "Endpoint", "CareTeam", "Coverage",
        "Specimen", "ImagingStudy", "Immunization", "AllergyIntolerance", "FamilyMemberHistory", "ClinicalImpression",
        "DeviceUseStatement", "Medication", "Provenance", "Group", "Claim", "ExplanationOfBenefit", "CarePlan", "Goal",
        "SupplyDelivery", "Media", "MedicationDispense", "MedicationStatement", "RelatedPerson", "Consent",
        "QuestionnaireResponse", "Questionnaire", "Basic", "Binary", "Bundle", "List", "Task", "Appointment",
        "Schedule", "Slot", "HealthcareService", "NutritionOrder", "RiskAssessment", "DetectedIssue", "Flag",
    ]

    public func map(_ resource: JSONValue) throws(FHIRMappingError) -> Output {
        guard let type = resource["resourceType"]?.stringValue else {
            throw FHIRMappingError(field: "resourceType", message: "missing", kind: "no resource type")
        }
        guard let id = FHIR.nonBlank(resource["id"]?.stringValue) else {
            throw FHIRMappingError(field: "id", message: "missing", kind: "no id")
        }
        guard FHIR.isID(id) else {
            throw FHIRMappingError(field: "id", message: "not a FHIR id (1 to 64 of A-Z, a-z, 0-9, \"-\" and \".\")", kind: "bad id")
        }
        let source = "\(type)/\(id)"
        switch type {
        case "Patient": return .statics(patient: id, items: patientFacts(resource))
        case "Encounter": return try events(resource, source: source, encounter)
        case "Condition": return try events(resource, source: source, condition)
        case "MedicationRequest": return try events(resource, source: source, medicationRequest)
        case "MedicationAdministration": return try events(resource, source: source, medicationAdministration)
        case "Observation": return try events(resource, source: source, observation)
        case "Procedure": return try events(resource, source: source, procedure)
        case "ServiceRequest": return try events(resource, source: source, serviceRequest)
        case "DiagnosticReport": return try events(resource, source: source, diagnosticReport)
        case "DocumentReference": return try events(resource, source: source, documentReference)
        case "Composition": return try events(resource, source: source, composition)
        default:
            if Self.skippedTypes.contains(type) { return .skipped(type: type) }
            throw FHIRMappingError(field: "resourceType", message: "unknown resource type \"\(type)\"",
                                   kind: "unknown resource type")
        }
    }

    private func events(_ resource: JSONValue, source: String,
                        _ build: (JSONValue, String) throws(FHIRMappingError) -> [Event]) throws(FHIRMappingError) -> Output {
        let patient = FHIR.referenceID(resource["subject"], type: "Patient")
            ?? FHIR.referenceID(resource["patient"], type: "Patient")
        guard let patient else {
            for key in ["subject", "patient"] {
                if resource[key]?["reference"]?.stringValue != nil {
                    throw FHIRMappingError(field: "\(key).reference",
                                           message: "not a reference to a Patient (Patient/id, a URL ending so, or urn:uuid:...)",
                                           kind: "bad reference")
                }
            }
            throw FHIRMappingError(field: "subject", message: "no Patient reference", kind: "no subject")
        }
        return .events(patient: patient, events: try build(resource, source))
    }

    // MARK: Times

    /// The first present of `paths` (dotted), as a time; an unreadable one
    /// is an error, not a fallback.
    private func time(_ resource: JSONValue, _ paths: String...) throws(FHIRMappingError) -> Timestamp {
        for path in paths {
            var value: JSONValue? = resource
            for part in path.split(separator: ".") { value = value?[String(part)] }
            guard let text = value?.stringValue else { continue }
            guard let time = Timestamp(parsing: text) else {
                throw FHIRMappingError(field: path, message: "not a valid date/time: \"\(text)\"", kind: "bad time")
            }
            return time
        }
        throw FHIRMappingError(field: paths.first, message: "no time (looked at \(paths.joined(separator: ", ")))",
                               kind: "no time")
    }

    private func encounterID(_ resource: JSONValue, _ key: String = "encounter") -> String? {
        FHIR.referenceID(resource[key], type: "Encounter")
    }

    // MARK: Resources

    private func patientFacts(_ resource: JSONValue) -> [Item] {
        var items = ItemList()
        items.add("gender", resource["gender"]?.stringValue)
        items.add("birth_date", resource["birthDate"]?.stringValue)
        if let died = resource["deceasedDateTime"]?.stringValue {
            items.add("deceased", died)
        } else if case .bool(let died)? = resource["deceasedBoolean"] {
            items.add("deceased", FieldValue.boolean(died))
        }
        for extensionValue in resource["extension"]?.arrayValue ?? [] {
            guard let url = extensionValue["url"]?.stringValue else { continue }
            for (suffix, key) in [("us-core-race", "race"), ("us-core-ethnicity", "ethnicity")] where url.hasSuffix(suffix) {
                let text = extensionValue["extension"]?.arrayValue?.first { $0["url"]?.stringValue == "text" }
                items.add(key, text?["valueString"]?.stringValue)
            }
        }
        items.add("marital_status", FHIR.text(resource["maritalStatus"]))
        return items.items
    }

    private func encounter(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let start = try time(resource, "period.start")
        let id = resource["id"]?.stringValue
        var admission = ItemList()
        let encounterClass = resource["class"]
        admission.add("admission_type", FHIR.nonBlank(encounterClass?["display"]?.stringValue) ?? encounterClass?["code"]?.stringValue)
        admission.add("encounter_type", FHIR.joined((resource["type"]?.arrayValue ?? []).map(FHIR.text)))
        admission.add("priority", FHIR.text(resource["priority"]))
        admission.add("admission_location", FHIR.text(resource["hospitalization"]?["admitSource"]))
        admission.add("discharge_location", FHIR.text(resource["hospitalization"]?["dischargeDisposition"]))
        admission.add("reason", FHIR.joined((resource["reasonCode"]?.arrayValue ?? []).map(FHIR.text)))
        if resource["period"]?["end"]?.stringValue != nil {
            admission.add("dischtime", try time(resource, "period.end").description)
        }
        var events = [Event(name: "admissions", time: start, admission: id,
                            records: [Record(items: admission.items, source: source)])]
        if let service = FHIR.text(resource["serviceType"]) {
            events.append(Event(name: "services", time: start, admission: id,
                                records: [Record(items: [Item("curr_service", .string(service))], source: source)]))
        }
        var atStart: [Record] = []
        for (index, location) in (resource["location"]?.arrayValue ?? []).enumerated() {
            guard let unit = FHIR.nonBlank(location["location"]?["display"]?.stringValue)
                ?? FHIR.referenceID(location["location"], type: "Location") else { continue }
            var items = ItemList()
            items.add("eventtype", index == 0 ? "admit" : "transfer")
            items.add("careunit", unit)
            let record = Record(items: items.items, source: "\(source)#location[\(index)]")
            if let text = location["period"]?["start"]?.stringValue {
                guard let at = Timestamp(parsing: text) else {
                    throw FHIRMappingError(field: "location[\(index)].period.start",
                                           message: "not a valid date/time: \"\(text)\"", kind: "bad time")
                }
                events.append(Event(name: "transfers", time: at, admission: id, records: [record]))
            } else {
                atStart.append(record)
            }
        }
        if !atStart.isEmpty { events.append(Event(name: "transfers", time: start, admission: id, records: atStart)) }
        return events
    }

    private func condition(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "recordedDate", "onsetDateTime", "onsetPeriod.start")
        var items = ItemList()
        let code = resource["code"]
        if let icd = FHIR.coding(code, system: FHIR.icd10cm) ?? FHIR.coding(code, system: FHIR.icd9cm) {
            items.add("icd_code", icd.code)
            items.add("icd_version", FieldValue.integer(icd.system == FHIR.icd10cm ? 10 : 9))
            items.add("long_title", FHIR.nonBlank(icd.display) ?? FHIR.text(code))
        } else {
            guard let title = FHIR.text(code) else {
                throw FHIRMappingError(field: "code", message: "no code or text", kind: "no code")
            }
            items.add("long_title", title)
            if let first = FHIR.codings(code).first(where: { FHIR.nonBlank($0.code) != nil }) {
                items.add("code", first.code)
                items.add("code_system", first.system.map(FHIR.systemName))
            }
        }
        items.add("category", FHIR.joined((resource["category"]?.arrayValue ?? []).map(FHIR.text)))
        items.add("clinical_status", FHIR.text(resource["clinicalStatus"]))
        return [Event(name: "diagnoses_icd", time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)])]
    }

    private func medicationName(_ resource: JSONValue) throws(FHIRMappingError) -> (String, FHIR.Coding?) {
        let concept = resource["medicationCodeableConcept"]
        guard let name = FHIR.text(concept) ?? FHIR.nonBlank(resource["medicationReference"]?["display"]?.stringValue) else {
            throw FHIRMappingError(field: "medicationCodeableConcept", message: "no medication name or code", kind: "no code")
        }
        return (name, FHIR.coding(concept, system: FHIR.rxnorm))
    }

    private func medicationRequest(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "authoredOn")
        let (drug, rxnorm) = try medicationName(resource)
        var items = ItemList()
        items.add("drug", drug)
        items.add("rxnorm", rxnorm?.code)
        let dosage = resource["dosageInstruction"]?.arrayValue?.first
        if let dose = FHIR.quantity(dosage?["doseAndRate"]?.arrayValue?.first?["doseQuantity"]) {
            items.add("dose_val_rx", dose.number)
            items.add("dose_unit_rx", dose.unit)
        }
        items.add("route", FHIR.text(dosage?["route"]))
        items.add("frequency", FHIR.text(dosage?["timing"]?["code"]) ?? dosage?["text"]?.stringValue)
        items.add("status", resource["status"]?.stringValue)
        return [Event(name: "prescriptions", time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)])]
    }

    private func medicationAdministration(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "effectiveDateTime", "effectivePeriod.start")
        let (medication, rxnorm) = try medicationName(resource)
        var items = ItemList()
        items.add("medication", medication)
        items.add("rxnorm", rxnorm?.code)
        items.add("event_txt", resource["status"]?.stringValue)
        if let dose = FHIR.quantity(resource["dosage"]?["dose"]) {
            items.add("dose_given", dose.number)
            items.add("dose_given_unit", dose.unit)
        }
        items.add("route", FHIR.text(resource["dosage"]?["route"]))
        return [Event(name: "emar", time: at, admission: encounterID(resource, "context"),
                      records: [Record(items: items.items, source: source)])]
    }

    /// An observation's value as text and, when numeric, as a number.
    private func observationValue(_ resource: JSONValue) -> (text: String?, number: FieldValue?, unit: String?) {
        if let quantity = FHIR.quantity(resource["valueQuantity"]) {
            return (quantity.number.description, quantity.number, quantity.unit)
        }
        if let concept = resource["valueCodeableConcept"] { return (FHIR.text(concept), nil, nil) }
        if let text = resource["valueString"]?.stringValue { return (text, nil, nil) }
        if case .integer(let value)? = resource["valueInteger"] { return (String(value), .integer(value), nil) }
        if case .bool(let value)? = resource["valueBoolean"] { return (value ? "true" : "false", nil, nil) }
        if let text = resource["valueDateTime"]?.stringValue { return (text, nil, nil) }
        // Panels such as blood pressure carry their values in components.
        let components = (resource["component"]?.arrayValue ?? []).compactMap { component -> String? in
            let value = observationValue(component)
            guard let text = value.text else { return nil }
            let name = FHIR.text(component["code"])
            return [name, [text, value.unit].compactMap { $0 }.joined(separator: " ")].compactMap { $0 }.joined(separator: ": ")
        }
        return (components.isEmpty ? nil : components.joined(separator: "; "), nil, nil)
    }

    private func observation(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued")
        guard let name = FHIR.text(resource["code"]) else {
            throw FHIRMappingError(field: "code", message: "no code or text", kind: "no code")
        }
        let categories = Set((resource["category"]?.arrayValue ?? []).flatMap { FHIR.codings($0).compactMap { $0.code?.lowercased() } })
        let value = observationValue(resource)
        var items = ItemList()
        let eventName: String
        if !categories.isDisjoint(with: ["laboratory", "lab"]) {
            eventName = "labevents"
            items.add("item_name", name)
            items.add("value", value.text)
            items.add("valuenum", value.number)
            items.add("valueuom", value.unit)
            let range = resource["referenceRange"]?.arrayValue?.first
            items.add("ref_range_lower", FHIR.quantity(range?["low"])?.number)
            items.add("ref_range_upper", FHIR.quantity(range?["high"])?.number)
            items.add("flag", FHIR.joined((resource["interpretation"]?.arrayValue ?? []).map(FHIR.text)))
            items.add("loinc", FHIR.coding(resource["code"], system: FHIR.loinc)?.code)
        } else if categories.contains("vital-signs") {
            eventName = "omr"
            items.add("result_name", name)
            items.add("result_value", [value.text, value.unit].compactMap { $0 }.joined(separator: " "))
        } else {
            eventName = "observations"
            items.add("name", name)
            items.add("value", [value.text, value.unit].compactMap { $0 }.joined(separator: " "))
            items.add("category", FHIR.joined((resource["category"]?.arrayValue ?? []).map(FHIR.text)))
        }
        return [Event(name: eventName, time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)])]
    }

    private func procedure(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "performedDateTime", "performedPeriod.start")
        guard let title = FHIR.text(resource["code"]) else {
            throw FHIRMappingError(field: "code", message: "no code or text", kind: "no code")
        }
        var items = ItemList()
        items.add("long_title", title)
        if let first = FHIR.codings(resource["code"]).first(where: { FHIR.nonBlank($0.code) != nil }) {
            items.add("code", first.code)
            items.add("code_system", first.system.map(FHIR.systemName))
        }
        items.add("status", resource["status"]?.stringValue)
        return [Event(name: "procedures", time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)])]
    }

    private func serviceRequest(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "authoredOn", "occurrenceDateTime", "occurrencePeriod.start")
        var items = ItemList()
        items.add("order_type", FHIR.joined((resource["category"]?.arrayValue ?? []).map(FHIR.text)) ?? "Order")
        items.add("order_subtype", FHIR.text(resource["code"]))
        items.add("priority", resource["priority"]?.stringValue)
        items.add("status", resource["status"]?.stringValue)
        return [Event(name: "poe", time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)])]
    }

    private func diagnosticReport(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "effectiveDateTime", "effectivePeriod.start", "issued")
        let categories = Set((resource["category"]?.arrayValue ?? []).flatMap { FHIR.codings($0).compactMap(\.code) })
        let isLab = categories.contains("LAB") || categories.contains("laboratory")
        var text: String?
        for (index, form) in (resource["presentedForm"]?.arrayValue ?? []).enumerated() where text == nil {
            text = try attachmentText(form, field: "presentedForm[\(index)]")
        }
        if text == nil, let div = resource["text"]?["div"]?.stringValue { text = XHTMLText.plainText(div) }
        if text == nil || text!.isEmpty { text = FHIR.nonBlank(resource["conclusion"]?.stringValue) }
        let name = FHIR.text(resource["code"]) ?? "Report"
        var items = ItemList()
        items.add(isLab ? "report_name" : "exam_name", name)
        if !isLab { items.add("conclusion", resource["conclusion"]?.stringValue) }
        try checkSize(text, field: "presentedForm")
        return [Event(name: isLab ? "lab_reports" : "radiology", time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)], text: text, source: source)]
    }

    private static let dischargeCodes: Set<String> = ["18842-5", "34105-7", "11490-0", "28655-9", "59258-4"]

    private func noteKind(_ type: JSONValue?) -> String {
        let codes = FHIR.codings(type).compactMap(\.code)
        if codes.contains(where: Self.dischargeCodes.contains) { return "discharge" }
        if let text = FHIR.text(type)?.lowercased(), text.contains("discharge summary") { return "discharge" }
        return "notes"
    }

    private func documentReference(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "date", "context.period.start", "indexed")
        var text: String?
        for (index, content) in (resource["content"]?.arrayValue ?? []).enumerated() where text == nil {
            text = try attachmentText(content["attachment"], field: "content[\(index)].attachment")
        }
        guard let text else {
            throw FHIRMappingError(field: "content", message: "no inline text attachment (data)", kind: "no text")
        }
        try checkSize(text, field: "content")
        var items = ItemList()
        items.add("note_type", FHIR.text(resource["type"]) ?? "Note")
        items.add("description", resource["description"]?.stringValue)
        let encounter = resource["context"]?["encounter"]?.arrayValue?.first.flatMap { FHIR.referenceID($0, type: "Encounter") }
        return [Event(name: noteKind(resource["type"]), time: at, admission: encounter,
                      records: [Record(items: items.items, source: source)], text: text, source: source)]
    }

    private func composition(_ resource: JSONValue, source: String) throws(FHIRMappingError) -> [Event] {
        let at = try time(resource, "date")
        var parts: [String] = []
        func add(_ sections: [JSONValue]) {
            for section in sections {
                let body = section["text"]?["div"]?.stringValue.map(XHTMLText.plainText) ?? ""
                let title = FHIR.nonBlank(section["title"]?.stringValue)
                if !body.isEmpty || title != nil { parts.append([title.map { "\($0):" }, body.isEmpty ? nil : body].compactMap { $0 }.joined(separator: "\n")) }
                add(section["section"]?.arrayValue ?? [])
            }
        }
        add(resource["section"]?.arrayValue ?? [])
        guard !parts.isEmpty else {
            throw FHIRMappingError(field: "section", message: "no section text", kind: "no text")
        }
        let text = parts.joined(separator: "\n\n")
        try checkSize(text, field: "section")
        var items = ItemList()
        items.add("note_type", FHIR.text(resource["type"]) ?? "Note")
        items.add("title", resource["title"]?.stringValue)
        return [Event(name: noteKind(resource["type"]), time: at, admission: encounterID(resource),
                      records: [Record(items: items.items, source: source)], text: text, source: source)]
    }

    /// The text of an Attachment with inline `data` (base64) in a text or
    /// (X)HTML content type; nil when it has none.
    private func attachmentText(_ attachment: JSONValue?, field: String) throws(FHIRMappingError) -> String? {
        guard let attachment, let data = attachment["data"]?.stringValue else { return nil }
        let type = (attachment["contentType"]?.stringValue ?? "text/plain").lowercased()
        guard type.hasPrefix("text/") || type.contains("xhtml") || type.contains("html") else { return nil }
        // Base64 is 4/3 of the bytes it carries: refuse before decoding.
        guard data.utf8.count / 4 * 3 <= maximumTextBytes else {
            throw FHIRMappingError(field: "\(field).data",
                                   message: "text of \(data.utf8.count / 4 * 3) bytes exceeds the limit of \(maximumTextBytes)",
                                   kind: "text too large")
        }
        guard let bytes = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
            throw FHIRMappingError(field: "\(field).data", message: "not valid base64", kind: "bad attachment")
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw FHIRMappingError(field: "\(field).data", message: "text is not valid UTF-8", kind: "bad attachment")
        }
        return type.contains("html") ? XHTMLText.plainText(text) : text
    }

    private func checkSize(_ text: String?, field: String) throws(FHIRMappingError) {
        guard let text, text.utf8.count > maximumTextBytes else { return }
        throw FHIRMappingError(field: field, message: "text of \(text.utf8.count) bytes exceeds the limit of \(maximumTextBytes)",
                               kind: "text too large")
    }
}
