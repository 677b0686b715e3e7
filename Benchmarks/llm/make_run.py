#!/usr/bin/env python3
"""Makes a run of N samples for the reasoning-client benchmark out of an
existing run through evidence (the demo run): its samples and evidence
records repeated with distinct ids (`ID~k`) over the same patients, and the
manifest's checksums updated so the reason stage accepts the files.

    python3 make_run.py SOURCE_RUN DEST_RUN N
"""
import hashlib
import json
import os
import shutil
import sys

source, dest, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(dest, ignore_errors=True)
os.makedirs(dest)
shutil.copy(os.path.join(source, "patients.jsonl"), dest)


def repeat(name, limit):
    """Copies `name` as many times as N needs (ID~0, ID~1, ...), cut at
    `limit` records; samples are copied whole so every evidence id has one."""
    records = [json.loads(line) for line in open(os.path.join(source, name)) if line.strip()]
    copies = -(-count // len(records))
    with open(os.path.join(dest, name), "w") as out:
        for index in range(min(limit, copies * len(records))):
            record = dict(records[index % len(records)])
            record["id"] = f"{record['id']}~{index // len(records)}"
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


repeat("samples.jsonl", sys.maxsize)
repeat("evidence.jsonl", count)
manifest = json.load(open(os.path.join(source, "run.json")))
for stage, name in [("import", "patients.jsonl"), ("samples", "samples.jsonl"), ("evidence", "evidence.jsonl")]:
    digest = hashlib.sha256(open(os.path.join(dest, name), "rb").read()).hexdigest()
    manifest["stages"][stage]["outputs"] = {name: digest}
manifest["stages"] = {stage: manifest["stages"][stage] for stage in ["import", "samples", "evidence"]}
json.dump(manifest, open(os.path.join(dest, "run.json"), "w"))
