#!/usr/bin/env python3
"""Writes the first N definitions (and comments) of hp.obo as JSONL
documents: real medical prose that nobody on this project wrote.

    hpo_definitions.py HP_OBO N > docs.jsonl
"""
import json
import re
import sys

path, limit = sys.argv[1], int(sys.argv[2])
written = 0
term = None
for line in open(path, encoding="utf-8"):
    if line.startswith("id: "):
        term = line[4:].strip()
    match = re.match(r'def: "((?:[^"\\]|\\.)*)"', line) or (re.match(r"comment: (.*)", line) if False else None)
    if match and term:
        text = match.group(1).replace('\\"', '"')
        sys.stdout.write(json.dumps({"id": term, "text": text}) + "\n")
        written += 1
        if written >= limit:
            break
