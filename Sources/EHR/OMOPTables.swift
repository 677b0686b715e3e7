/// How one OMOP CDM clinical table becomes events (CDM v5.3 and v5.4
/// column names): which concept column names the event, where its time
/// comes from, which other columns become items.
///
/// | table | event | main key |
/// |---|---|---|
/// | visit_occurrence | admissions | admission_type (the visit concept) |
/// | condition_occurrence | condition_occurrence | condition |
/// | drug_exposure | drug_exposure | drug |
/// | measurement | measurement | measurement (value, valuenum, unit, range) |
/// | procedure_occurrence | procedure_occurrence | procedure |
/// | observation | observation | observation (value, unit) |
/// | device_exposure | device_exposure | device |
/// | note | discharge / notes (text) | note_type |
///
/// Visits are `admissions` and discharge notes `discharge`, the names the
/// sample rules know (the visit a target belongs to, the last discharge
/// summary); the other tables keep OMOP's names (see `omop-tasks.json`).
public struct OMOPTable: Sendable {
    public enum Kind: Sendable { case text, number, integer, concept }

    public struct Column: Sendable {
        /// The column's name; the v5.3 name after it where v5.4 renamed it.
        public var names: [String]
        public var key: String
        public var kind: Kind
        init(_ names: [String], as key: String, _ kind: Kind = .text) {
            self.names = names
            self.key = key
            self.kind = kind
        }
    }

    public var file: String
    public var event: String
    /// The standard concept naming the row, and the source concept and
    /// value it was mapped from.
    public var concept: String
    public var sourceConcept: String?
    public var sourceValue: String?
    /// The item key of the row's name.
    public var key: String
    /// Time columns, the first non-empty wins; the last is required (the
    /// `_date` column every CDM table has).
    public var times: [String]
    public var columns: [Column]
    /// Whether the row carries a value (`value_as_number`, `value_as_concept_id` ...).
    public var hasValue = false

    /// The clinical tables, in import order. `visit_occurrence`, `note`,
    /// `person` and `death` are read by the importer itself.
    public static let clinical: [OMOPTable] = [
        OMOPTable(file: "condition_occurrence", event: "condition_occurrence", concept: "condition_concept_id",
                  sourceConcept: "condition_source_concept_id", sourceValue: "condition_source_value", key: "condition",
                  times: ["condition_start_datetime", "condition_start_date"],
                  columns: [Column(["condition_status_concept_id"], as: "status", .concept),
                            Column(["condition_end_date"], as: "end_date")]),
        OMOPTable(file: "drug_exposure", event: "drug_exposure", concept: "drug_concept_id",
                  sourceConcept: "drug_source_concept_id", sourceValue: "drug_source_value", key: "drug",
                  times: ["drug_exposure_start_datetime", "drug_exposure_start_date"],
                  columns: [Column(["quantity"], as: "quantity", .number), Column(["dose_unit_source_value"], as: "dose_unit"),
                            Column(["route_concept_id"], as: "route", .concept), Column(["days_supply"], as: "days_supply", .integer),
                            Column(["sig"], as: "sig"), Column(["drug_exposure_end_date"], as: "end_date")]),
        OMOPTable(file: "measurement", event: "measurement", concept: "measurement_concept_id",
                  sourceConcept: "measurement_source_concept_id", sourceValue: "measurement_source_value", key: "measurement",
                  times: ["measurement_datetime", "measurement_date"],
                  columns: [Column(["range_low"], as: "range_low", .number), Column(["range_high"], as: "range_high", .number)],
                  hasValue: true),
        OMOPTable(file: "procedure_occurrence", event: "procedure_occurrence", concept: "procedure_concept_id",
                  sourceConcept: "procedure_source_concept_id", sourceValue: "procedure_source_value", key: "procedure",
                  times: ["procedure_datetime", "procedure_date"],
                  columns: [Column(["quantity"], as: "quantity", .integer), Column(["modifier_concept_id"], as: "modifier", .concept)]),
        OMOPTable(file: "observation", event: "observation", concept: "observation_concept_id",
                  sourceConcept: "observation_source_concept_id", sourceValue: "observation_source_value", key: "observation",
                  times: ["observation_datetime", "observation_date"],
                  columns: [Column(["qualifier_concept_id"], as: "qualifier", .concept)], hasValue: true),
        OMOPTable(file: "device_exposure", event: "device_exposure", concept: "device_concept_id",
                  sourceConcept: "device_source_concept_id", sourceValue: "device_source_value", key: "device",
                  times: ["device_exposure_start_datetime", "device_exposure_start_date"],
                  columns: [Column(["quantity"], as: "quantity", .integer)]),
    ]

    /// Every table the importer reads, for finding files and sizing partitions.
    public static let fileNames = ["person", "death", "visit_occurrence"] + clinical.map(\.file) + ["note"]
}
