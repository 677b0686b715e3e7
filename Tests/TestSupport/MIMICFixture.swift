import Foundation

/// A tiny MIMIC-IV in PhysioNet's own column layout (hosp 3.1, note 2.2),
/// two patients, written as the .csv.gz / .csv files a user downloads.
public enum MIMICFixture {
    public static let hosp: [String: String] = [
        "patients": #"""
            subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod
            10000032,F,52,2180,2014 - 2016,2180-09-09
            10000084,M,72,2160,2017 - 2019,

            """#,
        "admissions": #"""
            subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag
            10000032,22595853,2180-05-06 22:23:00,2180-05-07 17:15:00,,URGENT,P874LG,TRANSFER FROM HOSPITAL,HOME,Other,ENGLISH,WIDOWED,WHITE,2180-05-06 19:17:00,2180-05-06 23:30:00,0
            10000084,23052089,2160-11-21 01:56:00,2160-11-25 14:52:00,,EW EMER.,P6957U,WALK-IN/SELF REFERRAL,HOME HEALTH CARE,Medicare,ENGLISH,MARRIED,WHITE,2160-11-20 20:36:00,2160-11-21 03:20:00,0

            """#,
        "transfers": #"""
            subject_id,hadm_id,transfer_id,eventtype,careunit,intime,outtime
            10000032,22595853,33258284,ED,Emergency Department,2180-05-06 19:17:00,2180-05-06 23:30:00
            10000032,22595853,35223874,admit,Transplant,2180-05-06 23:30:00,2180-05-07 17:21:00
            10000032,22595853,36904543,discharge,,2180-05-07 17:21:00,

            """#,
        "services": #"""
            subject_id,hadm_id,transfertime,prev_service,curr_service
            10000032,22595853,2180-05-06 23:30:00,,MED

            """#,
        "diagnoses_icd": #"""
            subject_id,hadm_id,seq_num,icd_code,icd_version
            10000032,22595853,1,5723,9
            10000032,22595853,2,78959,9
            10000084,23052089,1,G3183,10

            """#,
        "d_icd_diagnoses": #"""
            icd_code,icd_version,long_title
            5723,9,Portal hypertension
            78959,9,Other ascites
            G3183,10,"Dementia with Lewy bodies, ""probable"""

            """#,
        "procedures_icd": #"""
            subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version
            10000032,22595853,1,2180-05-07,5491,9

            """#,
        "d_icd_procedures": #"""
            icd_code,icd_version,long_title
            5491,9,Percutaneous abdominal drainage

            """#,
        "prescriptions": #"""
            subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route
            10000032,22595853,48770010,10000032-36,36,P85UQ1,2180-05-07 00:00:00,2180-05-07 22:00:00,MAIN,Furosemide,FURO40I,008208,51079007320,40mg Tablet,,40,mg,1,TAB,1,PO

            """#,
        "emar": #"""
            subject_id,hadm_id,emar_id,emar_seq,poe_id,pharmacy_id,enter_provider_id,charttime,medication,event_txt,scheduletime,storetime
            10000032,22595853,10000032-10,10,10000032-36,48770010,,2180-05-07 09:05:00,Furosemide,Administered,2180-05-07 09:00:00,2180-05-07 09:05:00

            """#,
        "poe": #"""
            poe_id,poe_seq,subject_id,hadm_id,ordertime,order_type,order_subtype,transaction_type,discontinue_of_poe_id,discontinued_by_poe_id,order_provider_id,order_status
            10000032-34,34,10000032,22595853,2180-05-06 23:42:05,Lab,,New,,,P85UQ1,Inactive

            """#,
        "omr": #"""
            subject_id,chartdate,seq_num,result_name,result_value
            10000032,2180-04-27,1,Blood Pressure,110/65
            10000032,2180-04-27,1,Weight (Lbs),94

            """#,
        "labevents": #"""
            labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments
            1,10000032,22595853,2704548,50931,P85UQ1,2180-05-07 05:10:00,2180-05-07 06:36:00,95,95,mg/dL,70,100,,ROUTINE,
            2,10000032,22595853,2704548,50983,P85UQ1,2180-05-07 05:10:00,2180-05-07 06:36:00,___,,mEq/L,133,145,,ROUTINE,"HEMOLYZED, ""see note""
            repeat requested"
            3,10000084,,9999,50931,,2160-11-20 21:00:00,,110,110,mg/dL,70,100,abnormal,STAT,

            """#,
        "d_labitems": #"""
            itemid,label,fluid,category
            50931,Glucose,Blood,Chemistry
            50983,Sodium,Blood,Chemistry

            """#,
        "microbiologyevents": #"""
            microevent_id,subject_id,hadm_id,micro_specimen_id,order_provider_id,chartdate,charttime,spec_itemid,spec_type_desc,test_seq,storedate,storetime,test_itemid,test_name,org_itemid,org_name,isolate_num,quantity,ab_itemid,ab_name,dilution_text,dilution_comparison,dilution_value,interpretation,comments
            11,10000032,22595853,7814634,,2180-05-06,,70012,BLOOD CULTURE,1,2180-05-12,,90201,Blood Culture- Routine,,,,,,,,,,,NO GROWTH.

            """#,
    ]

    public static let note: [String: String] = [
        "discharge": """
            note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text
            10000032-DS-21,10000032,22595853,DS,21,2180-05-07 00:00:00,2180-05-09 15:26:00," \nName:  ___ \nChief Complaint:\nabdominal fullness\n\nHistory of Present Illness:\nNo fever, no chills."

            """,
        "radiology": """
            note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text
            10000032-RR-14,10000032,22595853,RR,14,2180-05-06 21:19:00,2180-05-06 23:32:00,"EXAMINATION:  CHEST (PA AND LAT)\n\nIMPRESSION: No acute process."

            """,
        "radiology_detail": """
            note_id,subject_id,field_name,field_value,field_ordinal
            10000032-RR-14,10000032,exam_code,C11,1
            10000032-RR-14,10000032,exam_name,CHEST (PA AND LAT),1

            """,
    ]

    /// Writes the fixture (hosp tables gzipped, note tables plain) under a
    /// new temporary folder; returns it. `replace` swaps a table's text.
    public static func write(replace: [String: String] = [:]) throws -> String {
        let folder = NSTemporaryDirectory() + "tg-mimic-\(UUID().uuidString)"
        for module in ["hosp", "note"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(module)", withIntermediateDirectories: true)
        }
        for (name, text) in hosp {
            let path = "\(folder)/hosp/\(name).csv"
            try (replace[name] ?? text).write(toFile: path, atomically: true, encoding: .utf8)
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
            gzip.arguments = [path]
            try gzip.run()
            gzip.waitUntilExit()
            guard gzip.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
        for (name, text) in note {
            try (replace[name] ?? text).write(toFile: "\(folder)/note/\(name).csv", atomically: true, encoding: .utf8)
        }
        return folder
    }
}
