import Foundation

/// A small bulk export in the shape real generators and servers write.
public enum FHIRFixture {
    public static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    public static let files: [String: [String]] = [
        "Patient.ndjson": [
            #"{"resourceType":"Patient","id":"pt-1","gender":"female","birthDate":"1961-09-13","deceasedBoolean":false,"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"text","valueString":"Asian"}]}]}"#,
            #"{"resourceType":"Patient","id":"pt-2","gender":"male"}"#,
        ],
        "Encounter.ndjson": [
            #"{"resourceType":"Encounter","id":"enc-1","class":{"code":"IMP","display":"inpatient encounter"},"subject":{"reference":"Patient/pt-1"},"period":{"start":"2025-08-27T08:00:00Z","end":"2025-09-02T09:00:00Z"},"serviceType":{"text":"Internal Medicine"},"hospitalization":{"dischargeDisposition":{"text":"Home"}},"location":[{"location":{"display":"ED"}},{"location":{"display":"Ward 4E"},"period":{"start":"2025-08-27T12:00:00+02:00"}}]}"#,
        ],
        "Condition.ndjson": [
            #"{"resourceType":"Condition","id":"c-1","subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"recordedDate":"2025-08-27T09:00:00Z","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J44.1","display":"Chronic obstructive pulmonary disease with (acute) exacerbation"}]}}"#,
            #"{"resourceType":"Condition","id":"c-2","subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"recordedDate":"2025-08-27T09:00:00Z","code":{"text":"Hypoxemia"}}"#,
        ],
        "Observation.ndjson": [
            #"{"resourceType":"Observation","id":"o-1","category":[{"coding":[{"code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucose"}],"text":"Glucose"},"subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"effectiveDateTime":"2025-08-27T10:00:00Z","valueQuantity":{"value":182,"unit":"mg/dL"},"referenceRange":[{"low":{"value":70},"high":{"value":99}}],"interpretation":[{"coding":[{"code":"H","display":"High"}]}]}"#,
            #"{"resourceType":"Observation","id":"o-2","category":[{"coding":[{"code":"laboratory"}]}],"code":{"text":"Sodium"},"subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"effectiveDateTime":"2025-08-27T10:00:00Z","valueQuantity":{"value":131.5,"unit":"mmol/L"}}"#,
            #"{"resourceType":"Observation","id":"o-3","category":[{"coding":[{"code":"vital-signs"}]}],"code":{"text":"Blood pressure panel"},"subject":{"reference":"Patient/pt-1"},"effectiveDateTime":"2025-08-27T10:05:00Z","component":[{"code":{"text":"Systolic"},"valueQuantity":{"value":112,"unit":"mm[Hg]"}},{"code":{"text":"Diastolic"},"valueQuantity":{"value":62,"unit":"mm[Hg]"}}]}"#,
        ],
        "MedicationRequest.ndjson": [
            #"{"resourceType":"MedicationRequest","id":"mr-1","subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"authoredOn":"2025-08-27T08:34:00Z","medicationCodeableConcept":{"text":"Albuterol","coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"435"}]},"dosageInstruction":[{"doseAndRate":[{"doseQuantity":{"value":2.5,"unit":"mg"}}],"route":{"text":"INHALED"}}]}"#,
        ],
        "DocumentReference.ndjson": [
            "{\"resourceType\":\"DocumentReference\",\"id\":\"d-1\",\"type\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"18842-5\",\"display\":\"Discharge summary\"}]},\"subject\":{\"reference\":\"Patient/pt-1\"},\"date\":\"2025-09-02T09:00:00Z\",\"context\":{\"encounter\":[{\"reference\":\"Encounter/enc-1\"}]},\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"\(base64("Discharged home. No fever.\nFollow up in 7 days."))\"}}]}",
        ],
        "Composition.ndjson": [
            #"{"resourceType":"Composition","id":"cmp-1","type":{"text":"History and physical note"},"subject":{"reference":"Patient/pt-1"},"encounter":{"reference":"Encounter/enc-1"},"date":"2025-08-27T08:30:00Z","section":[{"title":"Subjective","text":{"div":"<div xmlns='http://www.w3.org/1999/xhtml'><p>Shortness of breath.</p><p>Denies chest pain.</p></div>"}}]}"#,
        ],
        "Practitioner.ndjson": [#"{"resourceType":"Practitioner","id":"dr-1"}"#],
    ]

    /// Writes the export (Observation gzipped) and returns its folder.
    public static func write(extra: [String: [String]] = [:]) throws -> String {
        let folder = NSTemporaryDirectory() + "tg-fhir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/export", withIntermediateDirectories: true)
        for (name, lines) in files.merging(extra, uniquingKeysWith: +) {
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(folder)/export/\(name)", atomically: true, encoding: .utf8)
        }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["\(folder)/export/Observation.ndjson"]
        try gzip.run()
        gzip.waitUntilExit()
        guard gzip.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return folder
    }

}
