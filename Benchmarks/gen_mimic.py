#!/usr/bin/env python3
"""Writes a MIMIC-IV-shaped hosp folder with N lab rows (PhysioNet's column
layout), for import benchmarks: patients, admissions, d_labitems, labevents.

    python3 Benchmarks/gen_mimic.py OUT_DIR LAB_ROWS [PATIENTS] [--full NOTE_SHARE]

With --full, also what the whole pipeline reads: diagnoses_icd (with
d_icd_diagnoses: real ICD-10-CM codes), prescriptions (real drug names) and,
for NOTE_SHARE of the patients, a discharge note in OUT_DIR/../note; the
first 40 lab items carry real test names, so extraction links them.

Lab rows are spread over the patients in subject order within time, as in
the real table (sorted by subject), so one patient's events are contiguous;
the importer must not rely on that, and does not."""
import os
import random
import sys

arguments = sys.argv[1:]
note_share = None
if "--full" in arguments:
    at = arguments.index("--full")
    note_share = float(arguments[at + 1])
    del arguments[at:at + 2]
out, rows = arguments[0], int(arguments[1])
patients = int(arguments[2]) if len(arguments) > 2 else max(1, rows // 2000)
random.seed(11)
os.makedirs(out, exist_ok=True)
LAB_NAMES = ["Glucose", "Sodium", "Potassium", "Chloride", "Bicarbonate", "Creatinine", "Urea Nitrogen", "Calcium, Total",
             "Magnesium", "Phosphate", "Hemoglobin", "Hematocrit", "Platelet Count", "White Blood Cells", "Red Blood Cells",
             "MCV", "Albumin", "Bilirubin, Total", "Alanine Aminotransferase (ALT)", "Asparate Aminotransferase (AST)",
             "Alkaline Phosphatase", "Lactate", "Troponin T", "Creatine Kinase (CK)", "INR(PT)", "PTT", "Lipase",
             "Anion Gap", "pH", "pO2", "pCO2", "Hemoglobin A1c", "Cholesterol, Total", "Triglycerides", "TSH",
             "C-Reactive Protein", "Ferritin", "Vitamin B12", "NTproBNP", "Uric Acid"]
items = [(50800 + i, LAB_NAMES[i] if i < len(LAB_NAMES) else f"Lab item {i}", random.choice(["Blood", "Urine"]),
          random.choice(["Chemistry", "Hematology"])) for i in range(800)]
with open(f"{out}/d_labitems.csv", "w") as f:
    f.write("itemid,label,fluid,category\n")
    for itemid, label, fluid, category in items:
        f.write(f"{itemid},\"{label}\",{fluid},{category}\n")
with open(f"{out}/patients.csv", "w") as f, open(f"{out}/admissions.csv", "w") as a:
    f.write("subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod\n")
    a.write("subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,"
            "discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag\n")
    for p in range(patients):
        subject = 10000000 + p
        f.write(f"{subject},{random.choice('FM')},{random.randint(18, 90)},2150,2014 - 2016,\n")
        a.write(f"{subject},{20000000 + p},2150-01-01 08:00:00,2150-01-20 12:00:00,,URGENT,P1,EMERGENCY ROOM,HOME,"
                f"Medicare,ENGLISH,MARRIED,WHITE,,,0\n")
per = rows // patients
extra = rows - per * patients
with open(f"{out}/labevents.csv", "w") as f:
    f.write("labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,"
            "valueuom,ref_range_lower,ref_range_upper,flag,priority,comments\n")
    lab = 0
    lines = []
    for p in range(patients):
        subject = 10000000 + p
        count = per + (1 if p < extra else 0)
        for k in range(count):
            lab += 1
            itemid = items[(lab * 7919) % len(items)][0]
            day = 1 + (k // 40) % 19
            hour = (k // 4) % 24
            value = round(random.uniform(1, 200), 1)
            flag = "abnormal" if value > 150 else ""
            lines.append(f"{lab},{subject},{20000000 + p},{lab // 10},{itemid},,2150-01-{day:02d} {hour:02d}:00:00,,"
                         f"{value},{value},mg/dL,10,150,{flag},ROUTINE,\n")
            if len(lines) >= 100000:
                f.write("".join(lines))
                lines.clear()
    f.write("".join(lines))

if note_share is not None:
    DIAGNOSES = [("I10", "Essential (primary) hypertension"), ("E119", "Type 2 diabetes mellitus without complications"),
                 ("N179", "Acute kidney failure, unspecified"), ("I509", "Heart failure, unspecified"),
                 ("J189", "Pneumonia, unspecified organism"), ("A419", "Sepsis, unspecified organism"),
                 ("E785", "Hyperlipidemia, unspecified"), ("I4891", "Unspecified atrial fibrillation"),
                 ("N390", "Urinary tract infection, site not specified"), ("J449", "Chronic obstructive pulmonary disease, unspecified"),
                 ("E871", "Hypo-osmolality and hyponatremia"), ("D649", "Anemia, unspecified"), ("K219", "Gastro-esophageal reflux disease without esophagitis"),
                 ("F329", "Major depressive disorder, single episode, unspecified"), ("E039", "Hypothyroidism, unspecified"),
                 ("I2510", "Atherosclerotic heart disease of native coronary artery without angina pectoris"),
                 ("N183", "Chronic kidney disease, stage 3 (moderate)"), ("E876", "Hypokalemia"), ("G4733", "Obstructive sleep apnea (adult) (pediatric)"),
                 ("J9601", "Acute respiratory failure with hypoxia"), ("K5900", "Constipation, unspecified"), ("R7881", "Bacteremia"),
                 ("I639", "Cerebral infarction, unspecified"), ("M1990", "Unspecified osteoarthritis, unspecified site"),
                 ("E1122", "Type 2 diabetes mellitus with diabetic chronic kidney disease"), ("I214", "Non-ST elevation (NSTEMI) myocardial infarction"),
                 ("K922", "Gastrointestinal hemorrhage, unspecified"), ("R0600", "Dyspnea, unspecified"), ("R079", "Chest pain, unspecified"),
                 ("G309", "Alzheimer's disease, unspecified")]
    DRUGS = ["Heparin", "Insulin", "Metoprolol Tartrate", "Furosemide", "Acetaminophen", "Lisinopril", "Atorvastatin", "Aspirin",
             "Potassium Chloride", "Pantoprazole", "Vancomycin", "Ceftriaxone", "Piperacillin-Tazobactam", "Amlodipine", "Metformin",
             "Levothyroxine Sodium", "Warfarin", "Apixaban", "Ondansetron", "Senna", "Docusate Sodium", "Magnesium Sulfate",
             "Albuterol", "Prednisone", "Oxycodone", "Morphine Sulfate", "Gabapentin", "Sertraline", "Tamsulosin", "Enoxaparin"]
    with open(f"{out}/d_icd_diagnoses.csv", "w") as f:
        f.write("icd_code,icd_version,long_title\n")
        for code, title in DIAGNOSES:
            f.write(f'{code},10,"{title}"\n')
    with open(f"{out}/diagnoses_icd.csv", "w") as d, open(f"{out}/prescriptions.csv", "w") as r:
        d.write("subject_id,hadm_id,seq_num,icd_code,icd_version\n")
        r.write("subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,drug_type,drug,formulary_drug_cd,"
                "gsn,ndc,prod_strength,form_rx,dose_val_rx,dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route\n")
        for p in range(patients):
            subject, hadm = 10000000 + p, 20000000 + p
            for seq, (code, _) in enumerate(random.sample(DIAGNOSES, random.randint(3, 12)), 1):
                d.write(f"{subject},{hadm},{seq},{code},10\n")
            for k in range(random.randint(5, 25)):
                day, hour = 1 + (k * 3) % 19, (k * 5) % 24
                r.write(f"{subject},{hadm},{p * 100 + k},,,,2150-01-{day:02d} {hour:02d}:30:00,,MAIN,{random.choice(DRUGS)},,,0,,,1,mg,,,2,PO\n")
    notes = os.path.join(os.path.dirname(os.path.abspath(out)), "note")
    os.makedirs(notes, exist_ok=True)
    with open(f"{notes}/discharge.csv", "w") as f:
        f.write("note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text\n")
        for p in range(patients):
            if random.random() >= note_share:
                continue
            subject, hadm = 10000000 + p, 20000000 + p
            problems = random.sample(DIAGNOSES, 4)
            drugs = random.sample(DRUGS, 6)
            body = [f"Discharge Summary. Admission Date: 2150-01-01. Discharge Date: 2150-01-20.",
                    f"Chief Complaint: {random.choice(['shortness of breath', 'chest pain', 'fever', 'weakness', 'confusion'])}.",
                    "History of Present Illness: " + " ".join(
                        f"The patient has a history of {title.lower()}." for _, title in problems),
                    "Hospital Course: " + " ".join(
                        f"{drug} was started and continued without complication." for drug in drugs[:3]),
                    "The patient denies nausea. No evidence of bleeding. Mother had breast cancer.",
                    "Discharge Medications: " + ", ".join(drugs) + ".",
                    "Discharge Diagnosis: " + "; ".join(title for _, title in problems) + "."]
            text = "\n".join(body * 3).replace('"', "'")
            f.write(f'{subject}-DS-1,{subject},{hadm},DS,1,2150-01-20 11:00:00,,"{text}"\n')
