import Testing
@testable import EHR

@Suite struct RendererTests {
    let renderer = TimelineRenderer()

    @Test func oneRecordIsAListAndSeveralAreATable() {
        let events = TimelineTests.sample.events
        #expect(renderer.render(events[0]) == """
            ## Admissions [2180-05-06 22:23:00]
            - admission_type: URGENT

            """)
        #expect(renderer.render(events[1]) == """
            ## Labevents [2180-05-07 06:00:00]
            | item_name | valuenum | flag | value |
            | --- | --- | --- | --- |
            | Glucose | 95.5 | false |  |
            | Sodium \\| Na |  |  | <130 |

            """)
        #expect(renderer.render(events[2]) == "## Discharge [2180-05-08 12:00:00]\nDischarge summary\nline two\n")
        #expect(renderer.displayName("chart_events") == "Chart Events")
    }

    @Test func aTokenBudgetDropsTheOldestEventsFirst() {
        let events = TimelineTests.sample.events
        let full = renderer.render(events)
        #expect(full.dropped == 0)
        #expect(full.text.components(separatedBy: "## ").count == 4)
        let budget = TimelineRenderer.estimatedTokens(renderer.render(events[2])) + 2
        let fitted = renderer.render(events, maxTokens: budget)
        #expect(fitted.dropped == 2)
        #expect(fitted.text.hasPrefix("## Discharge"))
        // A kept event (the admission) survives; the next oldest goes.
        let kept = renderer.render(events, maxTokens: budget + 20, keep: [0])
        #expect(kept.text.hasPrefix("## Admissions") && !kept.text.contains("Labevents") && kept.text.contains("Discharge"))
    }

    @Test func xhtmlNarrativesBecomeLines() {
        let div = """
            <div xmlns="http://www.w3.org/1999/xhtml"><h5>Findings</h5><p>Lungs&nbsp;clear &amp; dry.<br/>Heart normal.</p>\
            <ul><li>one</li><li>two</li></ul><table><tr><th>Test</th><th>Value</th></tr><tr><td>Na</td><td>140</td></tr></table>\
            <script>alert(1)</script>Tail</div>
            """
        #expect(XHTMLText.plainText(div) == "Findings\nLungs\u{A0}clear & dry.\nHeart normal.\n- one\n- two\nTest | Value\nNa | 140\nTail")
        #expect(XHTMLText.plainText("<div xmlns='http://www.w3.org/1999/xhtml'>a\nb</div>") == "a\nb")
        #expect(XHTMLText.plainText("") == "")
        #expect(XHTMLText.plainText("<div><p>unclosed") == "unclosed")
    }
}

/// The shipped format renders a context as EHR-R1's `input_process` lays it
/// out: `## Title [time]`, `- Key: value` for one record (keys as Python's
/// `str.title()`), a table with a `------` rule row for several, the
/// demographics first. One sample per task of a MIMIC-shaped patient.
@Suite struct ReferenceFormatTests {
    static func at(_ text: String) -> Timestamp { Timestamp(parsing: text)! }
    static func event(_ name: String, _ time: String, _ rows: [[(String, FieldValue)]], text: String? = nil) -> Event {
        Event(name: name, time: at(time), admission: "h1", records: rows.map { Record(items: $0.map { Item($0.0, $0.1) }) }, text: text)
    }

    static let patient: Patient = {
        var events = [
            event("admissions", "2180-05-06 22:23:00", [[("admission_type", .string("URGENT")), ("admission_location", .string("TRANSFER FROM HOSPITAL")),
                                                         ("dischtime", .string("2180-05-07 17:15:00")), ("discharge_location", .string("HOME"))]]),
            event("transfers", "2180-05-06 23:30:00", [[("eventtype", .string("admit")), ("careunit", .string("Transplant")),
                                                        ("outtime", .string("2180-05-07 17:21:00"))]]),
            event("services", "2180-05-06 23:30:00", [[("prev_service", .string("")), ("curr_service", .string("MED"))]]),
            event("omr", "2180-05-07 00:00:00", [[("result_name", .string("BMI (kg/m2)")), ("result_value", .string("19.2"))]]),
            event("poe", "2180-05-07 00:10:00", [[("order_type", .string("Lab")), ("order_subtype", .string("Chemistry"))],
                                                 [("order_type", .string("Medications")), ("order_subtype", .string("IV"))]]),
            event("prescriptions", "2180-05-07 00:20:00", [[("drug", .string("Furosemide")), ("prod_strength", .string("40mg Tablet")),
                                                            ("dose_val_rx", .string("40")), ("dose_unit_rx", .string("mg")),
                                                            ("stoptime", .string("2180-05-07 22:00:00"))]]),
            event("emar", "2180-05-07 00:44:00", [[("medication", .string("Potassium Chloride")), ("event_txt", .string("Administered"))]]),
            event("labevents", "2180-05-07 05:10:00", [[("item_name", .string("Albumin")), ("value", .string("2.9")), ("valuenum", .number(2.9)),
                                                        ("valueuom", .string("g/dL")), ("ref_range_lower", .number(3.5)),
                                                        ("ref_range_upper", .number(5.2)), ("flag", .string("abnormal"))],
                                                       [("item_name", .string("Sodium")), ("value", .string("131")), ("valuenum", .integer(131)),
                                                        ("valueuom", .string("mEq/L"))]]),
            event("microbiologyevents", "2180-05-07 06:00:00", [[("test_name", .string("URINE CULTURE")), ("interpretation", .string("S")),
                                                                 ("ab_name", .string("AMPICILLIN"))]]),
            event("radiology", "2180-05-07 09:55:00", [[("note_type", .string("RR")), ("exam_name", .string("US ABD"))]], text: "IMPRESSION: ascites."),
            event("procedures_icd", "2180-05-07 10:00:00", [[("icd_code", .string("5491")), ("long_title", .string("Percutaneous abdominal drainage"))]]),
        ]
        for minute in 0..<10 {
            events.append(event("labevents", String(format: "2180-05-07 11:%02d:00", minute), [[("item_name", .string("Glucose")),
                                                                                                  ("value", .string("95")), ("valueuom", .string("mg/dL"))]]))
        }
        events.append(event("diagnoses_icd", "2180-05-07 17:15:00", [[("long_title", .string("Portal hypertension"))], [("long_title", .string("Other ascites"))]]))
        events.append(event("discharge", "2180-05-07 17:30:00", [[("note_type", .string("DS"))]], text: "Discharge summary."))
        return Patient(id: "10000032", statics: [Item("gender", .string("F")), Item("anchor_age", .integer(52)), Item("anchor_year", .integer(2180)),
                                                  Item("dod", .string("2180-09-09"))], events: events)
    }()

    @Test func everyTaskRendersInTheReferenceLayout() throws {
        let standard = try TaskSet.standard()
        let renderer = TimelineRenderer(format: standard.format)
        let samples = SampleBuilder(tasks: standard.tasks, testFraction: 0).samples(for: Self.patient)
        let diagnosis = try #require(samples.first { $0.task == "diagnoses_icd" })
        #expect(renderer.render(diagnosis, of: Self.patient).text == """
            ## Patient Demographics
            - Age: 52
            - Gender: Female

            ## Admissions [2180-05-06 22:23:00]
            - Admission_Type: URGENT
            - Admission_Location: TRANSFER FROM HOSPITAL

            ## Transfers [2180-05-06 23:30:00]
            - Eventtype: admit
            - Careunit: Transplant

            ## Services [2180-05-06 23:30:00]
            - Curr_Service: MED

            ## Online Medical Record [2180-05-07 00:00:00]
            - Result_Name: BMI (kg/m2)
            - Result_Value: 19.2

            ## Provider Order Entry [2180-05-07 00:10:00]
            | Order_Type | Order_Subtype |
            | ------ | ------ |
            | Lab | Chemistry |
            | Medications | IV |

            ## Prescriptions [2180-05-07 00:20:00]
            - Drug: Furosemide
            - Prod_Strength: 40mg Tablet
            - Dose_Val_Rx: 40
            - Dose_Unit_Rx: mg

            ## Electronic Medicine Administration Record [2180-05-07 00:44:00]
            - Medication: Potassium Chloride
            - Event_Txt: Administered

            ## Laboratory Test Events [2180-05-07 05:10:00]
            | Item_Name | Value | Valueuom | Ref_Range_Lower | Ref_Range_Upper | Flag |
            | ------ | ------ | ------ | ------ | ------ | ------ |
            | Albumin | 2.9 | g/dL | 3.5 | 5.2 | abnormal |
            | Sodium | 131 | mEq/L |  |  |  |

            ## Microbiology Test Events [2180-05-07 06:00:00]
            - Test_Name: URINE CULTURE
            - Interpretation: S
            - Ab_Name: AMPICILLIN

            ## Radiology Examinations [2180-05-07 09:55:00]
            - Note_Type: RR
            - Exam_Name: US ABD
            IMPRESSION: ascites.

            ## Procedures on International Classification of Diseases [2180-05-07 10:00:00]
            - Procedures: Percutaneous abdominal drainage

            """ + (0..<10).map { String(format: "\n## Laboratory Test Events [2180-05-07 11:%02d:00]\n- Item_Name: Glucose\n- Value: 95\n- Valueuom: mg/dL\n", $0) }.joined())
        // Every task with a sample opens the same way and shows its target
        // event's type nowhere after the target.
        let tasks = Set(samples.map(\.task))
        #expect(tasks.isSuperset(of: ["diagnoses_icd", "labevents", "discharge", "next_event"]), "\(tasks.sorted())")
        for sample in samples {
            let text = renderer.render(sample, of: Self.patient).text
            #expect(text.hasPrefix("## Patient Demographics\n- Age: 52\n- Gender: Female\n\n## "), "\(sample.id)")
            #expect(!text.contains("HOME") && !text.contains("17:21") && !text.contains("22:00:00") && !text.contains("Dod"), "\(sample.id)")
        }
    }
}
