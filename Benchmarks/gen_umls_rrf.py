#!/usr/bin/env python3
"""Writes a synthetic UMLS release in RRF layout, at any scale, for benchmarks.

Shapes follow the real files: MRCONSO with 18 fields (about 2.3 atoms per
concept, 85 % English, a few suppressible rows, strings of 1-8 words drawn
from a clinical-sounding vocabulary, so lengths resemble UMLS: median ~30
characters), MRSTY with one or two types per concept, MRDEF for ~10 % of
concepts, and MRREL with paired rows in both directions (PAR/CHD, RB/RN, RO
with RELA) from several source vocabularies.

    python3 Benchmarks/gen_umls_rrf.py --out Benchmarks/data/umls-scale \
        --conso-rows 8000000 --rel-rows 30000000
"""
import argparse
import os
import random

SYLLABLES = ("ab do men al car di ac ne phr itis osis emia ia path hyper hypo gastr hep at "
             "o neur cyt lymph oma derm ost eo arthr my o cardi pulmon ren al vas cul ar "
             "bronch ial enter ic col on thyr oid angi o pneum on ia sep sis").split()
WORDS_FIXED = ("acute chronic left right upper lower syndrome disease disorder of the with without "
               "fracture infection pain injury neoplasm malignant benign primary secondary "
               "unspecified type due to in and severe mild moderate congenital").split()
SABS = ["MSH", "SNOMEDCT_US", "NCI", "MEDCPT", "RXNORM", "LNC", "ICD10CM", "MDR", "HPO", "OMIM"]
LANGS = ["ENG"] * 17 + ["SPA", "FRE", "GER"]
TTYS = ["PT", "SY", "MH", "ET", "FN", "PN", "AB"]
STYS = [("T047", "Disease or Syndrome", "B2.2.1.2.1"), ("T184", "Sign or Symptom", "A2.2.2"),
        ("T121", "Pharmacologic Substance", "A1.4.1.1.1"), ("T059", "Laboratory Procedure", "B1.3.1.2.1"),
        ("T023", "Body Part, Organ, or Organ Component", "A1.2.3.1"), ("T061", "Therapeutic or Preventive Procedure", "B1.3.1.3")]
RELS = [("PAR", "CHD", "inverse_isa", "isa"), ("RB", "RN", "", ""), ("RO", "RO", "may_treat", "may_be_treated_by"),
        ("RO", "RO", "has_finding_site", "finding_site_of"), ("RQ", "RQ", "", ""), ("SY", "SY", "", "")]


def make_vocabulary(rng, size):
    words = set(WORDS_FIXED)
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def cui(n):
    return "C%07d" % n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--conso-rows", type=int, default=8_000_000)
    parser.add_argument("--rel-rows", type=int, default=30_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    vocabulary = make_vocabulary(rng, 60_000)
    concepts = max(1, int(args.conso_rows / 2.3))

    with open(os.path.join(args.out, "MRCONSO.RRF"), "w", encoding="utf-8", buffering=1 << 20) as out:
        aui = 0
        concept = 0
        batch = []
        while aui < args.conso_rows:
            concept += 1
            base = [rng.choice(vocabulary) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8)))]
            for atom in range(min(rng.choice((1, 1, 2, 2, 3, 4, 6)), args.conso_rows - aui)):
                aui += 1
                words = base if atom == 0 else (base[:-1] + [rng.choice(vocabulary)] if rng.random() < 0.5 else
                                                 [rng.choice(WORDS_FIXED)] + base)
                text = " ".join(words)
                if atom == 0:
                    text = text.capitalize()
                ts, stt, ispref = ("P", "PF", "Y") if atom == 0 else ("S", rng.choice(("PF", "VO", "VC")), rng.choice("YN"))
                sab = rng.choice(SABS)
                suppress = "O" if rng.random() < 0.03 else "N"
                batch.append("|".join((cui(concept), rng.choice(LANGS), ts, "L%07d" % aui, stt, "S%07d" % aui, ispref,
                                       "A%08d" % aui, "", "", "", sab, rng.choice(TTYS), "D%06d" % concept, text, "0",
                                       suppress, "256")) + "|\n")
            if len(batch) >= 50_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        concepts = concept

    with open(os.path.join(args.out, "MRSTY.RRF"), "w", encoding="utf-8", buffering=1 << 20) as out:
        batch = []
        for n in range(1, concepts + 1):
            for tui, name, stn in rng.sample(STYS, rng.choice((1, 1, 1, 2))):
                batch.append("%s|%s|%s|%s|AT%08d||\n" % (cui(n), tui, stn, name, n))
            if len(batch) >= 50_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))

    with open(os.path.join(args.out, "MRDEF.RRF"), "w", encoding="utf-8", buffering=1 << 20) as out:
        batch = []
        for n in range(1, concepts + 1, 10):
            text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 40))).capitalize() + "."
            batch.append("%s|A%08d|AT%08d||%s|%s|N||\n" % (cui(n), n, n, rng.choice(SABS), text))
        out.write("".join(batch))

    with open(os.path.join(args.out, "MRREL.RRF"), "w", encoding="utf-8", buffering=1 << 20) as out:
        written = 0
        batch = []
        randint = rng.randint
        while written < args.rel_rows:
            a, b = randint(1, concepts), randint(1, concepts)
            rel, inverse, rela, inverse_rela = RELS[randint(0, len(RELS) - 1)]
            sab = SABS[randint(0, len(SABS) - 1)]
            suppress = "N" if randint(0, 49) else "O"
            batch.append("%s|A%08d|AUI|%s|%s|A%08d|AUI|%s|R%08d||%s|%s||Y|%s||\n" %
                         (cui(a), a, rel, cui(b), b, rela, written, sab, sab, suppress))
            batch.append("%s|A%08d|AUI|%s|%s|A%08d|AUI|%s|R%08d||%s|%s||N|%s||\n" %
                         (cui(b), b, inverse, cui(a), a, inverse_rela, written + 1, sab, sab, suppress))
            written += 2
            if len(batch) >= 100_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))


if __name__ == "__main__":
    main()
