#!/usr/bin/env python3
"""Agreement of thinkgraph's mentions with QuickUMLS's on the same documents:
precision, recall and F1 of ours against theirs over (document, start, end,
CUI), and the disagreements sorted into classes with examples.

    compare_mentions.py DOCS.jsonl QUICKUMLS.jsonl OURS.jsonl
"""
import collections
import json
import sys


def load(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            out[str(d["id"])] = d["mentions"]
    return out


def main():
    docs = {str(d["id"]): d["text"] for d in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
    theirs, ours = load(sys.argv[2]), load(sys.argv[3])
    t = {(i, m["start"], m["end"], m["cui"]) for i, ms in theirs.items() for m in ms}
    o = {(i, m["start"], m["end"], m["cui"]) for i, ms in ours.items() for m in ms}
    both = t & o
    precision = len(both) / len(o) if o else 1.0
    recall = len(both) / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"mentions: QuickUMLS {len(t)}, thinkgraph {len(o)}, both {len(both)}")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}")
    classes = collections.Counter()
    examples = collections.defaultdict(list)
    spans_t = {(i, s, e) for i, s, e, _ in t}
    spans_o = {(i, s, e) for i, s, e, _ in o}
    for side, missing, other_spans in (("only QuickUMLS", t - o, spans_o), ("only thinkgraph", o - t, spans_t)):
        other = o if side == "only QuickUMLS" else t
        other_by_doc = collections.defaultdict(list)
        for i, s, e, c in other:
            other_by_doc[i].append((s, e, c))
        for i, s, e, c in missing:
            overlapping = [x for x in other_by_doc[i] if x[0] < e and s < x[1]]
            if (i, s, e) in other_spans:
                kind = "same span, other concept"
            elif any(x[2] == c for x in overlapping):
                kind = "same concept, other span boundaries"
            elif overlapping:
                kind = "overlapping span chosen differently"
            else:
                kind = "no overlapping mention on the other side"
            classes[(side, kind)] += 1
            if len(examples[(side, kind)]) < 3:
                examples[(side, kind)].append(f"{i} [{s}:{e}] {docs[i][s:e]!r} {c}")
    for (side, kind), count in sorted(classes.items(), key=lambda x: -x[1]):
        print(f"  {side:16} {kind:42} {count:5}   e.g. {'; '.join(examples[(side, kind)])}")


if __name__ == "__main__":
    main()
