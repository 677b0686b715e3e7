#!/usr/bin/env python3
"""Makes benchmark inputs for SimString: queries drawn from a string list
(a third exact strings, a third with 1-3 character edits, a third random
word n-grams from the list's words), and optionally a large synthetic string
set with the vocabulary of gen_umls_rrf.py.

    python3 Benchmarks/make_queries.py queries STRINGS.txt N > queries.txt
    python3 Benchmarks/make_queries.py strings N > strings.txt
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_umls_rrf  # noqa: E402

ALPHABET = "abcdefghiklmnoprstuy -"


def edit(text, rng):
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(3)
        if op == 0 and chars:
            del chars[rng.randrange(len(chars))]
        elif op == 1:
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(ALPHABET))
        elif chars:
            chars[rng.randrange(len(chars))] = rng.choice(ALPHABET)
    return "".join(chars)


def main():
    rng = random.Random(42)
    if sys.argv[1] == "queries":
        strings = [line.rstrip("\n") for line in open(sys.argv[2], encoding="utf-8")]
        words = [w for s in rng.sample(strings, min(len(strings), 20000)) for w in s.split()]
        out = []
        for i in range(int(sys.argv[3])):
            kind = i % 3
            if kind == 0:
                out.append(rng.choice(strings))
            elif kind == 1:
                out.append(edit(rng.choice(strings), rng))
            else:
                out.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 4))))
        sys.stdout.write("\n".join(out) + "\n")
    elif sys.argv[1] == "strings":
        vocabulary = gen_umls_rrf.make_vocabulary(rng, 60_000)
        count = int(sys.argv[2])
        seen = set()
        out = sys.stdout
        while len(seen) < count:
            text = " ".join(rng.choice(vocabulary) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))))
            if text not in seen:
                seen.add(text)
                out.write(text + "\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
