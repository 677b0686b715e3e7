#!/usr/bin/env python3
"""Runs QuickUMLS 1.4.2 offline, for the agreement and speed benchmark.

    quickumls_harness.py install RRF_DIR DEST          # QuickUMLS index from our export-rrf
    quickumls_harness.py match DEST DOCS.jsonl OUT.jsonl

Offline work-arounds (this machine reaches PyPI only):
- the spaCy English model cannot be downloaded: a blank English pipeline
  (`spacy.blank("en")`) gives QuickUMLS its tokenizer, and its part-of-speech
  checks see empty tags;
- NLTK's stopword corpus cannot be downloaded: the stopword list thinkgraph
  uses (Sources/Matcher/Stopwords.swift, NLTK's English list) is written as
  an NLTK corpus so both tools skip the same words;
- QuickUMLS 1.4.2's public `match()` drops its `best_match`/`ignore_syntax`
  arguments, so `_match(doc, best_match=True, ignore_syntax=False)` is called:
  with empty POS tags that is QuickUMLS's span heuristics without a tagger.
"""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def write_stopwords(folder):
    source = open(os.path.join(HERE, "..", "Sources", "Matcher", "Stopwords.swift"), encoding="utf-8").read()
    block = source.split("static let english", 1)[1].split("]", 1)[0]
    words = [w for w in re.findall(r'"([^"]*)"', block) if w != "time"]
    corpus = os.path.join(folder, "corpora", "stopwords")
    os.makedirs(corpus, exist_ok=True)
    with open(os.path.join(corpus, "english"), "w", encoding="utf-8") as out:
        out.write("\n".join(words) + "\n")
    os.environ["NLTK_DATA"] = folder


def install(rrf_dir, dest):
    from quickumls import install as qinstall
    qinstall.install_spacy = lambda language: None
    os.makedirs(dest, exist_ok=True)
    sys.argv = ["install", "-L", "-U", "-d", "unqlite", rrf_dir, dest]
    qinstall.main()


def match(dest, docs_path, out_path):
    write_stopwords(os.path.join(os.path.dirname(os.path.abspath(out_path)), "nltk_data"))
    import spacy
    from quickumls import QuickUMLS
    started = time.perf_counter()
    matcher = QuickUMLS(dest, threshold=0.7, similarity_name="jaccard", window=5, overlapping_criteria="score",
                        spacy_component=True)
    matcher.nlp = spacy.blank("en")
    startup = time.perf_counter() - started
    docs = [json.loads(line) for line in open(docs_path, encoding="utf-8") if line.strip()]
    characters = sum(len(d["text"]) for d in docs)
    started = time.perf_counter()
    with open(out_path, "w", encoding="utf-8") as out:
        for doc in docs:
            groups = matcher._match(matcher.nlp(doc["text"]), best_match=True, ignore_syntax=False)
            mentions = [{"start": m["start"], "end": m["end"], "cui": m["cui"], "ngram": m["ngram"],
                         "term": m["term"], "similarity": m["similarity"]} for group in groups for m in group]
            out.write(json.dumps({"id": doc["id"], "mentions": mentions}) + "\n")
    elapsed = time.perf_counter() - started
    print(json.dumps({"tool": "QuickUMLS 1.4.2", "documents": len(docs), "characters": characters,
                      "startup_seconds": round(startup, 3), "seconds": round(elapsed, 3),
                      "characters_per_second": round(characters / elapsed),
                      "documents_per_second": round(len(docs) / elapsed, 1)}))


if __name__ == "__main__":
    if sys.argv[1] == "install":
        install(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "match":
        match(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
