#!/usr/bin/env python3
"""Writes a MIMIC-IV-shaped hosp folder with N lab rows (PhysioNet's column
layout), for import benchmarks: patients, admissions, d_labitems, labevents.

    python3 Benchmarks/gen_mimic.py OUT_DIR LAB_ROWS [PATIENTS] [--full NOTE_SHARE] [--icu ICU_SHARE]

With --full, also what the whole pipeline reads: diagnoses_icd (with
d_icd_diagnoses: real ICD-10-CM codes), prescriptions (real drug names) and,
for NOTE_SHARE of the patients, a discharge note in OUT_DIR/../note; the
first 40 lab items carry real test names, so extraction links them.

With --icu (and --full), ICU_SHARE of the patients also have an ICU stay
in OUT_DIR/../icu (icustays, d_items, chartevents: the MIMIC benchmark's
vitals, GCS, glucose ... for the stay's first 72 hours under MIMIC-IV's
item ids and labels), some die in hospital (hospital_expire_flag), some
move between units or have two stays, and half have a radiology report in
the stay (OUT_DIR/../note/radiology.csv). Without --icu the output is
byte for byte what it was.

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
icu_share = None
if "--icu" in arguments:
    at = arguments.index("--icu")
    icu_share = float(arguments[at + 1])
    del arguments[at:at + 2]
    if note_share is None:
        sys.exit("gen_mimic: --icu needs --full")
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
# The ICU plan, drawn from its own generator so that the other tables do
# not change: per patient, its stays (intime, hours, units) and death.
icu_plan = {}
if icu_share is not None:
    icu_random = random.Random(13)
    units = ["Medical Intensive Care Unit (MICU)", "Surgical Intensive Care Unit (SICU)", "Cardiac Vascular Intensive Care Unit (CVICU)"]
    for p in range(patients):
        if icu_random.random() >= icu_share:
            continue
        start = icu_random.randint(24, 96)  # hours after 2150-01-01 00:00
        hours = icu_random.choice([icu_random.uniform(6, 24), icu_random.uniform(24, 48), icu_random.uniform(48, 240),
                                   icu_random.uniform(48, 240)])
        first = icu_random.choice(units)
        last = first if icu_random.random() >= 0.05 else icu_random.choice([u for u in units if u != first])
        stays = [(start, hours, first, last)]
        if icu_random.random() < 0.05:
            stays.append((start + int(hours) + 24, icu_random.uniform(24, 72), first, first))
        icu_plan[p] = {"stays": stays, "died": icu_random.random() < 0.12}


def clock(hours):
    """2150-01-01 00:00 plus `hours`, as MIMIC writes times."""
    seconds = int(round(hours * 3600))
    day, rest = divmod(seconds, 86400)
    return f"2150-01-{1 + day:02d} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


with open(f"{out}/patients.csv", "w") as f, open(f"{out}/admissions.csv", "w") as a:
    f.write("subject_id,gender,anchor_age,anchor_year,anchor_year_group,dod\n")
    a.write("subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,admission_location,"
            "discharge_location,insurance,language,marital_status,race,edregtime,edouttime,hospital_expire_flag\n")
    for p in range(patients):
        subject = 10000000 + p
        f.write(f"{subject},{random.choice('FM')},{random.randint(18, 90)},2150,2014 - 2016,\n")
        died = icu_plan.get(p, {}).get("died", False)
        a.write(f"{subject},{20000000 + p},2150-01-01 08:00:00,2150-01-20 12:00:00,{'2150-01-20 12:00:00' if died else ''},"
                f"URGENT,P1,EMERGENCY ROOM,{'DIED' if died else 'HOME'},Medicare,ENGLISH,MARRIED,WHITE,,,{1 if died else 0}\n")
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

if icu_plan:
    ICU_ITEMS = [  # MIMIC-IV item id, label, linksto category, unit
        (220045, "Heart Rate", "Routine Vital Signs", "bpm"), (220179, "Non Invasive Blood Pressure systolic", "Routine Vital Signs", "mmHg"),
        (220180, "Non Invasive Blood Pressure diastolic", "Routine Vital Signs", "mmHg"),
        (220181, "Non Invasive Blood Pressure mean", "Routine Vital Signs", "mmHg"), (220210, "Respiratory Rate", "Respiratory", "insp/min"),
        (220277, "O2 saturation pulseoxymetry", "Respiratory", "%"), (223761, "Temperature Fahrenheit", "Routine Vital Signs", "°F"),
        (220739, "GCS - Eye Opening", "Neurological", ""), (223901, "GCS - Motor Response", "Neurological", ""),
        (223900, "GCS - Verbal Response", "Neurological", ""), (223835, "Inspired O2 Fraction", "Respiratory", ""),
        (225664, "Glucose finger stick (range 70-100)", "Routine Vital Signs", ""), (226512, "Admission Weight (Kg)", "General", "kg"),
        (226730, "Height (cm)", "General", "cm"), (223951, "Capillary Refill [Right]", "Cardiovascular", ""),
        (224082, "Activity", "Treatments", ""),  # not a benchmark variable
    ]
    EYE = [(4, "Spontaneously"), (3, "To Speech"), (2, "To Pain"), (1, "No Response")]
    MOTOR = [(6, "Obeys Commands"), (5, "Localizes Pain"), (4, "Flex-withdraws"), (1, "No response")]
    VERBAL = [(5, "Oriented"), (4, "Confused"), (3, "Inappropriate Words"), (1, "No Response-ETT")]
    icu = os.path.join(os.path.dirname(os.path.abspath(out)), "icu")
    notes = os.path.join(os.path.dirname(os.path.abspath(out)), "note")
    os.makedirs(icu, exist_ok=True)
    os.makedirs(notes, exist_ok=True)
    chart_random = random.Random(17)
    with open(f"{icu}/d_items.csv", "w") as f:
        f.write("itemid,label,abbreviation,linksto,category,unitname,param_type,lownormalvalue,highnormalvalue\n")
        for itemid, label, category, unit in ICU_ITEMS:
            f.write(f'{itemid},"{label}",{label[:12]},chartevents,{category},{unit},Numeric,,\n')
    with open(f"{icu}/icustays.csv", "w") as f, open(f"{icu}/chartevents.csv", "w") as c, open(f"{notes}/radiology.csv", "w") as r:
        f.write("subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los\n")
        c.write("subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning\n")
        r.write("note_id,subject_id,hadm_id,note_type,note_seq,charttime,storetime,text\n")
        for p, plan in icu_plan.items():
            subject, hadm = 10000000 + p, 20000000 + p
            for k, (start, hours, first, last) in enumerate(plan["stays"]):
                stay = 30000000 + p * 2 + k
                f.write(f'{subject},{hadm},{stay},"{first}","{last}",{clock(start)},{clock(start + hours)},{hours / 24:.4f}\n')
                sick = 1.0 + (0.3 if plan["died"] else 0.0)
                for h in range(int(min(hours, 72))):
                    t = start + h + chart_random.choice([0, 0.25, 0.5])
                    def row(itemid, value, valuenum, unit=""):
                        c.write(f"{subject},{hadm},{stay},1,{clock(t)},,{itemid},{value},{valuenum},{unit},0\n")
                    hr = round(chart_random.gauss(85 * sick, 12))
                    row(220045, hr, hr, "bpm")
                    rate, saturation = round(chart_random.gauss(18 * sick, 3)), min(100, round(chart_random.gauss(96, 2)))
                    row(220210, rate, rate, "insp/min")
                    row(220277, saturation, saturation, "%")
                    if h % 2 == 0:
                        sbp, dbp = round(chart_random.gauss(120 / sick, 15)), round(chart_random.gauss(65 / sick, 8))
                        row(220179, sbp, sbp, "mmHg")
                        row(220180, dbp, dbp, "mmHg")
                        row(220181, round((sbp + 2 * dbp) / 3), round((sbp + 2 * dbp) / 3), "mmHg")
                    if h % 4 == 0:
                        temperature = round(chart_random.gauss(98.6 + (1.5 if plan["died"] else 0), 1), 1)
                        row(223761, temperature, temperature, "°F")
                        for itemid, scale in ((220739, EYE), (223901, MOTOR), (223900, VERBAL)):
                            score, text = chart_random.choice(scale[:2] if not plan["died"] else scale)
                            row(itemid, text, score)
                        row(224082, "Bedrest", "")
                    if h % 6 == 0:
                        glucose = round(chart_random.gauss(140, 35))
                        row(225664, glucose, glucose, "mg/dL")
                    if h % 8 == 0:
                        row(223951, "Normal <3 Seconds" if chart_random.random() < 0.8 else "Abnormal >3 Seconds", "")
                    if h % 12 == 0 and chart_random.random() < 0.5:
                        fio2 = chart_random.choice([21, 30, 40, 50])
                        row(223835, fio2, fio2, "%")
                    if h == 0:
                        weight, height = round(chart_random.gauss(80, 15), 1), round(chart_random.gauss(170, 10))
                        row(226512, weight, weight, "kg")
                        row(226730, height, height, "cm")
                if chart_random.random() < 0.5:
                    t = start + chart_random.uniform(1, min(hours, 60))
                    finding = chart_random.choice(["No acute cardiopulmonary process.", "Bibasilar atelectasis.",
                                                   "Right lower lobe consolidation concerning for pneumonia.",
                                                   "Small bilateral pleural effusions."])
                    r.write(f'{subject}-RR-{k + 1},{subject},{hadm},RR,{k + 1},{clock(t)},,"EXAMINATION: CHEST (PORTABLE AP). '
                            f'INDICATION: ICU patient. FINDINGS: {finding} IMPRESSION: {finding}"\n')
