/// How one MIMIC-IV table becomes events: which file, which event name,
/// which column gives the time, which columns become items (renamed and
/// typed), which dictionary adds a title.
///
/// Column names follow the MIMIC-IV 2.x/3.x schema as PhysioNet ships it;
/// the columns listed here are required, others in the file are ignored
/// (identifiers and store times carry nothing a model should read).
public struct MIMICTable: Sendable {
    public enum Module: String, Sendable { case hosp, icu, ed, note }
    public enum Kind: Sendable { case text, number, integer }

    public struct Column: Sendable {
        public var name: String
        public var key: String
        public var kind: Kind
        init(_ name: String, as key: String? = nil, _ kind: Kind = .text) {
            self.name = name
            self.key = key ?? name
            self.kind = kind
        }
    }

    /// Where a time comes from.
    public enum Time: Sendable {
        /// The first non-empty of these columns.
        case columns([String])
        /// The discharge time of the row's admission (diagnoses carry no
        /// time of their own; EHR-R1 places them at discharge).
        case admissionDischarge
        /// The start of the row's ED stay (triage carries no time).
        case edStayStart
        /// The end of the row's ED stay (ED diagnoses are given then).
        case edStayEnd
    }

    /// A title looked up in a dictionary table.
    public enum Lookup: Sendable {
        case icdDiagnosis, icdProcedure, labItem, radiologyExam
        /// An ICU item's label from `d_items`.
        case icuItem
    }

    public var module: Module
    public var file: String
    public var event: String
    public var time: Time
    /// The row's own id column (duplicates of it are refused).
    public var idColumn: String?
    public var columns: [Column]
    public var lookup: Lookup?
    public var textColumn: String?

    /// The tables imported, in import order (admissions before the tables
    /// that need their discharge times).
    public static let all: [MIMICTable] = [
        MIMICTable(module: .hosp, file: "admissions", event: "admissions", time: .columns(["admittime"]), idColumn: "hadm_id",
                   columns: [Column("admission_type"), Column("admission_location"), Column("discharge_location"),
                             Column("insurance"), Column("language"), Column("marital_status"), Column("race"),
                             Column("dischtime"), Column("hospital_expire_flag", .integer)]),
        MIMICTable(module: .hosp, file: "transfers", event: "transfers", time: .columns(["intime"]), idColumn: "transfer_id",
                   columns: [Column("eventtype"), Column("careunit"), Column("outtime")]),
        MIMICTable(module: .hosp, file: "services", event: "services", time: .columns(["transfertime"]), idColumn: nil,
                   columns: [Column("prev_service"), Column("curr_service")]),
        MIMICTable(module: .hosp, file: "diagnoses_icd", event: "diagnoses_icd", time: .admissionDischarge, idColumn: nil,
                   columns: [Column("icd_code"), Column("icd_version", .integer), Column("seq_num", .integer)],
                   lookup: .icdDiagnosis),
        MIMICTable(module: .hosp, file: "procedures_icd", event: "procedures_icd", time: .columns(["chartdate"]), idColumn: nil,
                   columns: [Column("icd_code"), Column("icd_version", .integer), Column("seq_num", .integer)],
                   lookup: .icdProcedure),
        MIMICTable(module: .hosp, file: "prescriptions", event: "prescriptions", time: .columns(["starttime"]), idColumn: nil,
                   columns: [Column("drug"), Column("drug_type"), Column("ndc"), Column("prod_strength"), Column("dose_val_rx"),
                             Column("dose_unit_rx"), Column("route"), Column("doses_per_24_hrs")]),
        MIMICTable(module: .hosp, file: "emar", event: "emar", time: .columns(["charttime"]), idColumn: "emar_id",
                   columns: [Column("medication"), Column("event_txt")]),
        MIMICTable(module: .hosp, file: "poe", event: "poe", time: .columns(["ordertime"]), idColumn: "poe_id",
                   columns: [Column("order_type"), Column("order_subtype"), Column("transaction_type"), Column("order_status")]),
        MIMICTable(module: .hosp, file: "omr", event: "omr", time: .columns(["chartdate"]), idColumn: nil,
                   columns: [Column("result_name"), Column("result_value")]),
        MIMICTable(module: .hosp, file: "labevents", event: "labevents", time: .columns(["charttime"]), idColumn: "labevent_id",
                   columns: [Column("value"), Column("valuenum", .number), Column("valueuom"),
                             Column("ref_range_lower", .number), Column("ref_range_upper", .number), Column("flag"),
                             Column("priority"), Column("comments")],
                   lookup: .labItem),
        MIMICTable(module: .hosp, file: "microbiologyevents", event: "microbiologyevents", time: .columns(["charttime", "chartdate"]),
                   idColumn: "microevent_id",
                   columns: [Column("spec_type_desc"), Column("test_name"), Column("org_name"), Column("ab_name"),
                             Column("dilution_text"), Column("interpretation"), Column("comments")]),
        MIMICTable(module: .icu, file: "icustays", event: "icustays", time: .columns(["intime"]), idColumn: "stay_id",
                   columns: [Column("first_careunit"), Column("last_careunit"), Column("outtime"), Column("los", .number)]),
        // The ICU module's event tables (items named from d_items).
        MIMICTable(module: .icu, file: "chartevents", event: "chartevents", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("value"), Column("valuenum", .number), Column("valueuom"), Column("warning", .integer)],
                   lookup: .icuItem),
        MIMICTable(module: .icu, file: "datetimeevents", event: "datetimeevents", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("value"), Column("valueuom")], lookup: .icuItem),
        MIMICTable(module: .icu, file: "inputevents", event: "inputevents", time: .columns(["starttime"]), idColumn: nil,
                   columns: [Column("amount", .number), Column("amountuom"), Column("rate", .number), Column("rateuom"),
                             Column("endtime")],
                   lookup: .icuItem),
        MIMICTable(module: .icu, file: "ingredientevents", event: "ingredientevents", time: .columns(["starttime"]), idColumn: nil,
                   columns: [Column("amount", .number), Column("amountuom"), Column("rate", .number), Column("rateuom"),
                             Column("endtime")],
                   lookup: .icuItem),
        MIMICTable(module: .icu, file: "outputevents", event: "outputevents", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("value", .number), Column("valueuom")], lookup: .icuItem),
        MIMICTable(module: .icu, file: "procedureevents", event: "procedureevents", time: .columns(["starttime"]), idColumn: nil,
                   columns: [Column("value", .number), Column("valueuom"), Column("location"), Column("locationcategory"),
                             Column("endtime")],
                   lookup: .icuItem),
        // MIMIC-IV-ED: stays first (the other tables find their admission
        // and, for triage and diagnoses, their time through the stay).
        MIMICTable(module: .ed, file: "edstays", event: "edstays", time: .columns(["intime"]), idColumn: "stay_id",
                   columns: [Column("arrival_transport"), Column("disposition"), Column("outtime")]),
        MIMICTable(module: .ed, file: "triage", event: "triage", time: .edStayStart, idColumn: "stay_id",
                   columns: [Column("temperature", .number), Column("heartrate", .number), Column("resprate", .number),
                             Column("o2sat", .number), Column("sbp", .number), Column("dbp", .number), Column("pain"),
                             Column("acuity", .number), Column("chiefcomplaint")]),
        MIMICTable(module: .ed, file: "vitalsign", event: "vitalsign", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("temperature", .number), Column("heartrate", .number), Column("resprate", .number),
                             Column("o2sat", .number), Column("sbp", .number), Column("dbp", .number), Column("rhythm"),
                             Column("pain")]),
        MIMICTable(module: .ed, file: "medrecon", event: "medrecon", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("name"), Column("ndc"), Column("etcdescription")]),
        MIMICTable(module: .ed, file: "pyxis", event: "pyxis", time: .columns(["charttime"]), idColumn: nil,
                   columns: [Column("name")]),
        MIMICTable(module: .ed, file: "diagnosis", event: "diagnosis", time: .edStayEnd, idColumn: nil,
                   columns: [Column("icd_code"), Column("icd_version", .integer), Column("icd_title")]),
        MIMICTable(module: .note, file: "discharge", event: "discharge", time: .columns(["charttime"]), idColumn: "note_id",
                   columns: [Column("note_type")], textColumn: "text"),
        MIMICTable(module: .note, file: "radiology", event: "radiology", time: .columns(["charttime"]), idColumn: "note_id",
                   columns: [Column("note_type")], lookup: .radiologyExam, textColumn: "text"),
    ]
}
