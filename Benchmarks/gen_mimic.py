#!/usr/bin/env python3
"""Writes a MIMIC-IV-shaped hosp folder with N lab rows (PhysioNet's column
layout), for import benchmarks: patients, admissions, d_labitems, labevents.

    python3 Benchmarks/gen_mimic.py OUT_DIR LAB_ROWS [PATIENTS]

Lab rows are spread over the patients in subject order within time, as in
the real table (sorted by subject), so one patient's events are contiguous;
the importer must not rely on that, and does not."""
import os
import random
import sys

out, rows = sys.argv[1], int(sys.argv[2])
patients = int(sys.argv[3]) if len(sys.argv) > 3 else max(1, rows // 2000)
random.seed(11)
os.makedirs(out, exist_ok=True)
items = [(50800 + i, f"Lab item {i}", random.choice(["Blood", "Urine"]), random.choice(["Chemistry", "Hematology"])) for i in range(800)]
with open(f"{out}/d_labitems.csv", "w") as f:
    f.write("itemid,label,fluid,category\n")
    for itemid, label, fluid, category in items:
        f.write(f"{itemid},{label},{fluid},{category}\n")
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
