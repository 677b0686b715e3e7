#!/usr/bin/env python3
"""Compares `simstring -e -q` outputs per query, as multisets of strings.

    compare_results.py MEASURE THRESHOLD CPP.out OURS_ROUNDING.out OURS_EXACT.out

Prints the number of queries whose retrieved sets differ between the C++ tool
and ours with --simstring-rounding (expected: 0), and between the C++ tool and
ours with exact arithmetic; each of the latter differences is checked to be a
string whose true similarity reaches the threshold while the C++ formula's
floating-point rounding asks for one more shared feature.
"""
import collections
import math
import sys


def parse(path):
    results = []
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.rstrip("\n")
        if line.startswith("\t"):
            results[-1][1][line[1:]] += 1
        else:
            results.append((line, collections.Counter()))
    return results


def features(text, n=3):
    units = list(text)
    if len(units) < n:
        units += ["\x01"] * (n - len(units))
    counts = collections.Counter()
    out = set()
    for i in range(len(units) - n + 1):
        gram = "".join(units[i:i + n])
        counts[gram] += 1
        out.add(gram if counts[gram] == 1 else gram + str(counts[gram]))
    return out


def similarity(measure, q, r, m):
    return {"jaccard": lambda: m / (q + r - m), "cosine": lambda: m / math.sqrt(q * r),
            "dice": lambda: 2 * m / (q + r), "overlap": lambda: m / min(q, r),
            "exact": lambda: 1.0 if q == r == m else 0.0}[measure]()


def main():
    measure, threshold = sys.argv[1], float(sys.argv[2])
    cpp, rounding, exact = parse(sys.argv[3]), parse(sys.argv[4]), parse(sys.argv[5])
    assert len(cpp) == len(rounding) == len(exact), "different query counts"
    differ_rounding = sum(1 for a, b in zip(cpp, rounding) if a[1] != b[1])
    differ_exact = 0
    explained = 0
    extra_strings = 0
    for (query, expected), (_, got) in zip(cpp, exact):
        if expected == got:
            continue
        differ_exact += 1
        qf = features(query)
        ok = True
        for text in (got - expected):
            extra_strings += 1
            rf = features(text)
            m = len(qf & rf)
            true_sim = similarity(measure, len(qf), len(rf), m)
            if not true_sim >= threshold:
                ok = False
        if expected - got:
            ok = False
        explained += ok
    total = len(cpp)
    print(f"  parity {measure} {threshold}: {total} queries; differing from C++: "
          f"{differ_rounding} with --simstring-rounding, {differ_exact} with exact arithmetic "
          f"({explained} of them only add strings whose true similarity reaches the threshold; "
          f"{extra_strings} strings the C++ rounding misses)")


if __name__ == "__main__":
    main()
