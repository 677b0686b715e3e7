#!/usr/bin/env python3
"""Hostile-input fuzzing of thinkgraph's commands (issue 22).

A small pipeline is built once (an ontology, timelines, a run through
import, samples, extract, co-occurrence and evidence, two chunks each).
Then, case after case (seeded), one input or stage output is damaged -- cut
at a random byte, random bytes flipped, random lines deleted -- in a fresh
copy of that workspace, and the command that reads it is run. Each case must:

- end with exit 0 or 1 (never a signal, never a crash);
- on exit 0, leave a complete output (every JSONL line parses, the merged
  record count equals what the chunks' markers state, a lexicon opens);
  and for damage that no reader can take as valid (a cut gzip, a chunk
  changed after it finished, a stage output changed under run.json) exit 1;
- on exit 1, name the damaged file (or its folder) in the message;
- touch nothing but its output: every other file keeps its bytes.

    python3 Benchmarks/fuzz.py [--cases 300] [--seed 1] [--thinkgraph PATH]

Prints the counts per input kind and outcome, and every failure with the
command to reproduce it; exits 1 if any case failed.
"""
import argparse
import collections
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TERMS = [
    ("HP:0001250", "Seizure", ["Seizures"]), ("HP:0002090", "Pneumonia", []), ("HP:0001945", "Fever", []),
    ("HP:0002315", "Headache", []), ("HP:0100526", "Neoplasm of the lung", ["Lung cancer"]),
    ("HP:0001635", "Congestive heart failure", ["Heart failure"]), ("HP:0002094", "Dyspnea", ["Shortness of breath"]),
    ("HP:0012735", "Cough", []), ("HP:0002027", "Abdominal pain", []), ("HP:0002018", "Nausea", []),
    ("HP:0000822", "Hypertension", ["High blood pressure"]), ("HP:0000819", "Diabetes mellitus", ["Diabetes"]),
]
PARENTS = {"HP:0002090": "HP:0002094", "HP:0012735": "HP:0002094", "HP:0002018": "HP:0002027",
           "HP:0001945": "HP:0000001", "HP:0001250": "HP:0000001", "HP:0002315": "HP:0000001",
           "HP:0002094": "HP:0000001", "HP:0002027": "HP:0000001", "HP:0100526": "HP:0000001",
           "HP:0001635": "HP:0000001", "HP:0000822": "HP:0000001", "HP:0000819": "HP:0000001"}


def ontology():
    lines = ["format-version: 1.2", "ontology: hp", "", "[Term]", "id: HP:0000001", "name: All", ""]
    for term, name, synonyms in TERMS:
        lines += ["[Term]", f"id: {term}", f"name: {name}"]
        lines += [f'synonym: "{s}" EXACT []' for s in synonyms]
        lines += [f"is_a: {PARENTS[term]}", ""]
    return "\n".join(lines) + "\n"


def timelines(patients, rng):
    names = [name for _, name, _ in TERMS]
    out = []
    for p in range(patients):
        events = [{"name": "admissions", "time": "2100-01-01 08:00:00", "admission": f"h{p}",
                   "records": [{"items": {"admission_type": rng.choice(["URGENT", "ELECTIVE"])}}]}]
        for hour in range(1, 7):
            found = rng.sample(names, 3)
            events.append({"name": "radiology", "time": f"2100-01-01 {hour:02d}:30:00", "admission": f"h{p}",
                           "records": [{"items": {"exam_name": "CHEST X-RAY"}}],
                           "text": f"History of {found[0].lower()}. Reports {found[1].lower()}; no {found[2].lower()}."})
            events.append({"name": "diagnoses_icd", "time": f"2100-01-0{1 + hour // 3} {10 + hour:02d}:00:00",
                           "admission": f"h{p}", "records": [{"items": {"long_title": rng.choice(names)}}]})
        events.sort(key=lambda e: e["time"])
        out.append(json.dumps({"patient": f"p{p}", "static": {"gender": "F"}, "events": events}))
    return "\n".join(out) + "\n"


class Workspace:
    def __init__(self, thinkgraph, folder):
        self.tg = thinkgraph
        self.folder = folder

    def run(self, args, cwd=None):
        return subprocess.run([self.tg] + args, cwd=cwd or self.folder, capture_output=True, text=True, timeout=300)

    def must(self, args):
        result = self.run(args)
        if result.returncode != 0:
            sys.exit(f"fuzz: setting up failed: {' '.join(args)}\n{result.stderr}")
        return result


def build_baseline(thinkgraph, folder, rng):
    ws = Workspace(thinkgraph, folder)
    open(f"{folder}/onto.obo", "w").write(ontology())
    # mtime=0: the same bytes every run, so a seed gives the same cases.
    with gzip.GzipFile(f"{folder}/onto.obo.gz", "wb", mtime=0) as out:
        out.write(ontology().encode())
    open(f"{folder}/patients-in.jsonl", "w").write(timelines(24, rng))
    with gzip.GzipFile(f"{folder}/patients-in.jsonl.gz", "wb", mtime=0) as out:
        out.write(open(f"{folder}/patients-in.jsonl", "rb").read())
    tasks = json.loads(ws.must(["samples", "--print-default-tasks"]).stdout)
    tasks["defaults"]["min_context_events"] = 0
    json.dump(tasks, open(f"{folder}/tasks.json", "w"))
    ws.must(["lexicon", "build", "--out", "lex", "--obo", "onto.obo", "--quiet"])
    ws.must(["import", "jsonl", "patients-in.jsonl", "--run", "run", "--quiet"])
    ws.must(["samples", "--run", "run", "--tasks", "tasks.json"])
    for stage, extra in [("extract", ["--lexicon", "lex"]), ("cooccur", []),
                         ("evidence", ["--lexicon", "lex", "--threshold", "0", "--min-support", "1"])]:
        for index in range(2):
            ws.must([stage, "--run", "run", "--chunk-num", "2", "--chunk-idx", str(index), "--quiet"] + extra)
        ws.must([stage, "merge", "--run", "run"])
    return ws


# Each kind: the file damaged (relative to the workspace), the command that
# reads it, and whether any damage must be refused (the file is sealed).
KINDS = {
    "obo": ("onto.obo", ["lexicon", "build", "--out", "out-lex", "--obo", "onto.obo", "--quiet"], False),
    "obo.gz": ("onto.obo.gz", ["lexicon", "build", "--out", "out-lex", "--obo", "onto.obo.gz", "--quiet"], "gzip"),
    "timelines": ("patients-in.jsonl", ["import", "jsonl", "patients-in.jsonl", "--run", "out-run", "--quiet"], False),
    "timelines.gz": ("patients-in.jsonl.gz", ["import", "jsonl", "patients-in.jsonl.gz", "--run", "out-run", "--quiet"], "gzip"),
    "tasks": ("tasks.json", ["samples", "--run", "run", "--tasks", "tasks.json", "--force"], False),
    "extract chunk": ("run/extract/chunk-0000-of-0002.jsonl", ["extract", "merge", "--run", "run"], True),
    "cooccur chunk": ("run/cooccur/chunk-0001-of-0002.sqlite", ["cooccur", "merge", "--run", "run"], True),
    "evidence chunk": ("run/evidence/chunk-0000-of-0002.jsonl", ["evidence", "merge", "--run", "run"], True),
    "extract.jsonl": ("run/extract.jsonl", ["cooccur", "--run", "run", "--chunk-num", "3", "--chunk-idx", "0", "--quiet"], True),
    "samples.jsonl": ("run/samples.jsonl", ["extract", "--run", "run", "--lexicon", "lex", "--chunk-num", "3", "--quiet"], True),
    "cooccur.sqlite": ("run/cooccur.sqlite",
                       ["evidence", "--run", "run", "--lexicon", "lex", "--chunk-num", "3", "--quiet"], True),
    "simstring index": ("lex/strings.simstring", ["match", "--lexicon", "lex", "note.txt"], True),
    "run.json": ("run/run.json", ["evidence", "--run", "run", "--lexicon", "lex", "--chunk-num", "3", "--quiet"], False),
}


def damage(path, rng):
    data = bytearray(open(path, "rb").read())
    how = rng.choice(["truncate", "flip", "delete lines"])
    if how == "truncate" and len(data) > 1:
        data = data[: rng.randrange(1, len(data))]
    elif how == "flip" and data:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    else:
        lines = bytes(data).split(b"\n")
        if len(lines) > 2:
            for _ in range(rng.randint(1, max(1, len(lines) // 10))):
                if len(lines) > 1:
                    del lines[rng.randrange(len(lines) - 1)]
        else:
            how = "truncate"
            lines = [bytes(data[: max(1, len(data) // 2)])]
        data = bytearray(b"\n".join(lines))
    original = open(path, "rb").read()
    open(path, "wb").write(bytes(data))
    return how, bytes(data) != original


def snapshot(folder, skip):
    result = {}
    for base, dirs, files in os.walk(folder):
        rel = os.path.relpath(base, folder)
        if any(rel == s or rel.startswith(s + os.sep) for s in skip):
            continue
        for name in files:
            path = os.path.join(base, name)
            relpath = os.path.relpath(path, folder)
            if relpath in skip or name.endswith((".lock", ".verified")) or "/." in "/" + relpath:
                continue
            result[relpath] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return result


def complete(ws, kind):
    """What exit 0 promises: the output is whole and readable."""
    folder = ws.folder
    if kind.startswith("obo"):
        return ws.run(["lexicon", "info", "out-lex"]).returncode == 0
    if kind.startswith("timelines"):
        return ws.run(["import", "validate", "out-run/patients.jsonl"]).returncode == 0
    merged = {"extract chunk": "run/extract.jsonl", "evidence chunk": "run/evidence.jsonl", "tasks": "run/samples.jsonl"}
    if kind in merged:
        try:
            for line in open(os.path.join(folder, merged[kind])):
                if line.strip():
                    json.loads(line)
        except (OSError, ValueError):
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--thinkgraph", default=os.path.join(ROOT, ".build/release/thinkgraph"))
    parser.add_argument("--show", action="store_true", help="print each case's outcome and message")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = tempfile.mkdtemp(prefix="tg-fuzz-")
    try:
        baseline = os.path.join(scratch, "baseline")
        os.makedirs(baseline)
        build_baseline(args.thinkgraph, baseline, rng)
        open(os.path.join(baseline, "note.txt"), "w").write("History of seizures and fever.\n")
        counts = collections.Counter()
        failures = []
        kinds = sorted(KINDS)
        for case in range(args.cases):
            kind = kinds[case % len(kinds)]
            target, command, sealed = KINDS[kind]
            folder = os.path.join(scratch, f"case-{case}")
            shutil.copytree(baseline, folder, symlinks=True)
            how, changed = damage(os.path.join(folder, target), rng)
            output = {"obo": "out-lex", "obo.gz": "out-lex", "timelines": "out-run", "timelines.gz": "out-run"}.get(kind)
            # Everything but the damaged file, the command's output and the run folder it writes into.
            before = snapshot(folder, skip={target, output or "", "run"})
            ws = Workspace(args.thinkgraph, folder)
            result = ws.run(command)
            after = snapshot(folder, skip={target, output or "", "run"})
            problem = None
            if result.returncode < 0:
                problem = f"killed by signal {-result.returncode}"
            elif result.returncode not in (0, 1):
                problem = f"exit {result.returncode}"
            elif result.returncode == 0:
                outcome = "accepted"
                if changed and (sealed is True or (sealed == "gzip" and how == "truncate")):
                    problem = "damage that must be refused was accepted"
                elif not complete(ws, kind):
                    problem = "exit 0 with an incomplete output"
            else:
                outcome = "refused"
                named = os.path.basename(target)
                parent = os.path.basename(os.path.dirname(target)) or named
                if named not in result.stderr and parent not in result.stderr and "run.json" not in result.stderr:
                    problem = "the message names no file: " + result.stderr.strip()[:200]
            if before != after:
                problem = (problem + "; " if problem else "") + "touched files outside its output: " + \
                    ", ".join(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))[:200]
            if args.show:
                print(f"case {case} {kind} {how}: exit {result.returncode}: {result.stderr.strip()[:160]}")
            counts[(kind, "failed" if problem else (outcome if result.returncode in (0, 1) else "?"))] += 1
            if problem:
                failures.append(f"case {case} ({kind}, {how}): {problem}\n    cd {folder} && {args.thinkgraph} {' '.join(command)}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        print(f"fuzz: {args.cases} cases, seed {args.seed}")
        for kind in kinds:
            print(f"  {kind:16} refused {counts[(kind, 'refused')]:3}  accepted {counts[(kind, 'accepted')]:3}"
                  f"  failed {counts[(kind, 'failed')]:3}")
        for failure in failures:
            print("FAIL " + failure)
        print(f"fuzz: {len(failures)} failures")
        sys.exit(1 if failures else 0)
    finally:
        # FUZZ_KEEP=1 keeps the failed cases' folders for a look.
        if not os.environ.get("FUZZ_KEEP"):
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
