#!/usr/bin/env python3
"""Writes a run folder for the co-occurrence benchmark: samples.jsonl and
extract.jsonl (no run.json, so no checksum history), SAMPLES training
samples of the labevents task with about 5 target and 50 history concepts
each, concepts drawn from a Zipf-like vocabulary.

    python3 Benchmarks/gen_cooccur.py OUT_DIR SAMPLES [VOCABULARY]"""
import json
import os
import random
import sys

out, samples = sys.argv[1], int(sys.argv[2])
vocabulary = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
random.seed(3)
os.makedirs(out, exist_ok=True)
per_patient, events, context = 50, 60, 10
patients = max(1, samples // per_patient)
weights = [1.0 / (rank + 1) for rank in range(vocabulary)]
cumulative = []
total = 0.0
for w in weights:
    total += w
    cumulative.append(total)
import bisect
def draw():
    return bisect.bisect_left(cumulative, random.random() * total)

with open(f"{out}/extract.jsonl", "w") as extract, open(f"{out}/samples.jsonl", "w") as sample_file:
    written = 0
    for p in range(patients):
        pid = f"p{p}"
        rows = []
        for e in range(events):
            concepts = [{"concept": f"C{draw():07d}", "name": "x", "surface": "x", "link": "exact", "similarity": 1.0,
                         "field": "item_name"} for _ in range(5)]
            rows.append({"event": e, "name": "labevents", "concepts": concepts})
        extract.write(json.dumps({"id": pid, "events": rows}, separators=(",", ":")) + "\n")
        for k in range(per_patient):
            if written >= samples:
                break
            target = context + k % (events - context)
            sample_file.write(json.dumps({
                "id": f"{pid}:labevents:{k}", "patient": pid, "task": "labevents", "split": "train",
                "target_event": target, "target_time": "2100-01-01 00:00:00", "context_start": target - context,
                "context_end": target, "context_events": list(range(target - context, target)), "targets": ["x"]},
                separators=(",", ":")) + "\n")
            written += 1
