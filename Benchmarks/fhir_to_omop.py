#!/usr/bin/env python3
"""Writes an OMOP CDM v5.4 sample (CSV tables and their concept rows) from a
generated FHIR R4 cohort: a bulk export folder (clinosim's fhir_r4, *.ndjson)
or a folder of Bundle files (Synthea's, *.json).

    python3 Benchmarks/fhir_to_omop.py FHIR_DIR OUT_DIR [--tab] [--gzip]

Tables: person, death, visit_occurrence, condition_occurrence, drug_exposure,
measurement, procedure_occurrence, observation, note and concept. The
concept rows are the codes the cohort uses (SNOMED, ICD10CM, LOINC, RxNorm,
UCUM, Visit, Gender ...) with ids counted from 2,000,000,001 (OMOP keeps ids
above two billion for local concepts): the vocabulary files of Athena are
licensed, so no real OMOP concept id is used. The output is deterministic
for a given input. Standard library only.
"""
import argparse
import base64
import csv
import gzip
import json
import os
import re
import sys

VOCABULARIES = {
    "http://snomed.info/sct": "SNOMED",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://www.ama-assn.org/go/cpt": "CPT4",
}
VISITS = {"IMP": ("IP", "Inpatient Visit"), "ACUTE": ("IP", "Inpatient Visit"), "NONAC": ("IP", "Inpatient Visit"),
          "EMER": ("ER", "Emergency Room Visit"), "AMB": ("OP", "Outpatient Visit"), "VR": ("OP", "Outpatient Visit"),
          "HH": ("OP", "Outpatient Visit")}

TABLES = {
    "person": ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth", "birth_datetime",
               "race_concept_id", "ethnicity_concept_id", "location_id", "provider_id", "care_site_id", "person_source_value",
               "gender_source_value", "gender_source_concept_id", "race_source_value", "race_source_concept_id",
               "ethnicity_source_value", "ethnicity_source_concept_id"],
    "death": ["person_id", "death_date", "death_datetime", "death_type_concept_id", "cause_concept_id", "cause_source_value",
              "cause_source_concept_id"],
    "visit_occurrence": ["visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date", "visit_start_datetime",
                         "visit_end_date", "visit_end_datetime", "visit_type_concept_id", "provider_id", "care_site_id",
                         "visit_source_value", "visit_source_concept_id", "admitted_from_concept_id", "admitted_from_source_value",
                         "discharged_to_concept_id", "discharged_to_source_value", "preceding_visit_occurrence_id"],
    "condition_occurrence": ["condition_occurrence_id", "person_id", "condition_concept_id", "condition_start_date",
                             "condition_start_datetime", "condition_end_date", "condition_end_datetime", "condition_type_concept_id",
                             "condition_status_concept_id", "stop_reason", "provider_id", "visit_occurrence_id", "visit_detail_id",
                             "condition_source_value", "condition_source_concept_id", "condition_status_source_value"],
    "drug_exposure": ["drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date", "drug_exposure_start_datetime",
                      "drug_exposure_end_date", "drug_exposure_end_datetime", "verbatim_end_date", "drug_type_concept_id",
                      "stop_reason", "refills", "quantity", "days_supply", "sig", "route_concept_id", "lot_number", "provider_id",
                      "visit_occurrence_id", "visit_detail_id", "drug_source_value", "drug_source_concept_id", "route_source_value",
                      "dose_unit_source_value"],
    "measurement": ["measurement_id", "person_id", "measurement_concept_id", "measurement_date", "measurement_datetime",
                    "measurement_time", "measurement_type_concept_id", "operator_concept_id", "value_as_number", "value_as_concept_id",
                    "unit_concept_id", "range_low", "range_high", "provider_id", "visit_occurrence_id", "visit_detail_id",
                    "measurement_source_value", "measurement_source_concept_id", "unit_source_value", "unit_source_concept_id",
                    "value_source_value", "measurement_event_id", "meas_event_field_concept_id"],
    "procedure_occurrence": ["procedure_occurrence_id", "person_id", "procedure_concept_id", "procedure_date", "procedure_datetime",
                             "procedure_end_date", "procedure_end_datetime", "procedure_type_concept_id", "modifier_concept_id",
                             "quantity", "provider_id", "visit_occurrence_id", "visit_detail_id", "procedure_source_value",
                             "procedure_source_concept_id", "modifier_source_value"],
    "observation": ["observation_id", "person_id", "observation_concept_id", "observation_date", "observation_datetime",
                    "observation_type_concept_id", "value_as_number", "value_as_string", "value_as_concept_id",
                    "qualifier_concept_id", "unit_concept_id", "provider_id", "visit_occurrence_id", "visit_detail_id",
                    "observation_source_value", "observation_source_concept_id", "unit_source_value", "qualifier_source_value",
                    "value_source_value", "observation_event_id", "obs_event_field_concept_id"],
    "note": ["note_id", "person_id", "note_date", "note_datetime", "note_type_concept_id", "note_class_concept_id", "note_title",
             "note_text", "encoding_concept_id", "language_concept_id", "provider_id", "visit_occurrence_id", "visit_detail_id",
             "note_source_value", "note_event_id", "note_event_field_concept_id"],
    "concept": ["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept", "concept_code",
                "valid_start_date", "valid_end_date", "invalid_reason"],
}


class Concepts:
    """Local concept ids for the codes the cohort uses, in order of first use."""

    def __init__(self):
        self.ids = {}
        self.rows = []

    def id(self, vocabulary, code, name, domain):
        key = (vocabulary, code)
        if key not in self.ids:
            concept_id = 2_000_000_001 + len(self.rows)
            self.ids[key] = concept_id
            self.rows.append({"concept_id": concept_id, "concept_name": name or f"{vocabulary} {code}", "domain_id": domain,
                              "vocabulary_id": vocabulary, "concept_class_id": domain, "standard_concept": "S",
                              "concept_code": code, "valid_start_date": "1970-01-01", "valid_end_date": "2099-12-31",
                              "invalid_reason": ""})
        return self.ids[key]

    def coded(self, concept, domain):
        """(concept id, source value) of a CodeableConcept: its first coding of a known system, else its text."""
        concept = concept or {}
        for coding in concept.get("coding", []):
            vocabulary = VOCABULARIES.get(coding.get("system"))
            if vocabulary and coding.get("code"):
                return self.id(vocabulary, coding["code"], coding.get("display") or concept.get("text"), domain), coding["code"]
        text = concept.get("text") or next((c.get("display") for c in concept.get("coding", []) if c.get("display")), None)
        return 0, text or ""


def resources(folder):
    """Every resource of the folder's NDJSON files or Bundle files, in file order."""
    names = sorted(os.listdir(folder))
    for name in names:
        path = os.path.join(folder, name)
        opener = gzip.open if name.endswith(".gz") else open
        if name.endswith(".ndjson") or name.endswith(".ndjson.gz"):
            with opener(path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        yield json.loads(line)
        elif name.endswith(".json") or name.endswith(".json.gz"):
            with opener(path, "rt", encoding="utf-8") as handle:
                bundle = json.load(handle)
            if bundle.get("resourceType") != "Bundle":
                continue
            urls = {}
            for entry in bundle.get("entry", []):
                resource = entry.get("resource") or {}
                if entry.get("fullUrl") and resource.get("id"):
                    urls[entry["fullUrl"]] = f"{resource['resourceType']}/{resource['id']}"
            for entry in bundle.get("entry", []):
                if entry.get("resource"):
                    text = json.dumps(entry["resource"])
                    text = re.sub(r'"reference": "(urn:[^"]+)"', lambda m: f'"reference": "{urls.get(m.group(1), m.group(1))}"', text)
                    yield json.loads(text)


def reference(value):
    """The id a reference points at (Type/id, a URL ending so, or urn:uuid:id)."""
    text = (value or {}).get("reference") or ""
    return text.rsplit("/", 1)[-1].replace("urn:uuid:", "") if text else None


def date_time(text):
    """(date, datetime) in OMOP's form from a FHIR date or dateTime."""
    if not text:
        return "", ""
    if len(text) == 10:
        return text, ""
    stamp = text.replace("T", " ")
    stamp = re.sub(r"(\.\d+)?([+-]\d\d:\d\d|Z)$", "", stamp)
    return stamp[:10], stamp[:19]


def attachment_text(attachment):
    if not attachment:
        return None
    if attachment.get("data") and (attachment.get("contentType") or "text/plain").startswith("text/"):
        return base64.b64decode(attachment["data"]).decode("utf-8", "replace")
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--tab", action="store_true", help="tab-separated files")
    parser.add_argument("--gzip", action="store_true", help="write .csv.gz")
    args = parser.parse_args()

    concepts = Concepts()
    rows = {table: [] for table in TABLES}
    persons, visits = {}, {}
    counters = {table: 0 for table in TABLES}

    def next_id(table):
        counters[table] += 1
        return counters[table]

    everything = list(resources(args.source))
    # Persons and visits first: the other rows refer to them.
    for resource in everything:
        if resource["resourceType"] == "Patient":
            person_id = persons.setdefault(resource["id"], len(persons) + 1)
            birth = resource.get("birthDate") or "1900-01-01"
            gender = (resource.get("gender") or "unknown").upper()
            gender_id = concepts.id("Gender", gender[:1], gender, "Gender")
            race = next((ext.get("valueString") for outer in resource.get("extension", []) for ext in outer.get("extension", [])
                         if ext.get("url") == "text"), "")
            rows["person"].append({"person_id": person_id, "gender_concept_id": gender_id, "year_of_birth": birth[:4],
                                   "month_of_birth": int(birth[5:7]), "day_of_birth": int(birth[8:10]),
                                   "birth_datetime": birth + " 00:00:00", "race_concept_id": 0, "ethnicity_concept_id": 0,
                                   "person_source_value": resource["id"], "gender_source_value": resource.get("gender", ""),
                                   "race_source_value": race})
            if resource.get("deceasedDateTime"):
                day, stamp = date_time(resource["deceasedDateTime"])
                rows["death"].append({"person_id": person_id, "death_date": day, "death_datetime": stamp,
                                      "death_type_concept_id": 0})
    for resource in everything:
        if resource["resourceType"] == "Encounter":
            person_id = persons.get(reference(resource.get("subject")))
            if person_id is None:
                continue
            visit_id = visits.setdefault(resource["id"], len(visits) + 1)
            code, name = VISITS.get((resource.get("class") or {}).get("code"), ("OP", "Outpatient Visit"))
            period = resource.get("period") or {}
            start_day, start = date_time(period.get("start"))
            end_day, end = date_time(period.get("end"))
            source = next((t.get("text") or next((c.get("display") for c in t.get("coding", [])), "") for t in resource.get("type", [])), "")
            rows["visit_occurrence"].append({"visit_occurrence_id": visit_id, "person_id": person_id,
                                             "visit_concept_id": concepts.id("Visit", code, name, "Visit"),
                                             "visit_start_date": start_day, "visit_start_datetime": start,
                                             "visit_end_date": end_day, "visit_end_datetime": end, "visit_type_concept_id": 0,
                                             "visit_source_value": source})

    for resource in everything:
        kind = resource["resourceType"]
        person_id = persons.get(reference(resource.get("subject") or resource.get("patient")))
        if person_id is None:
            continue
        encounter = resource.get("encounter") or ((resource.get("context") or {}).get("encounter") or [None])[0] \
            if kind == "DocumentReference" else resource.get("encounter") or resource.get("context")
        visit_id = visits.get(reference(encounter)) or ""
        if kind == "Condition":
            day, stamp = date_time(resource.get("onsetDateTime") or resource.get("recordedDate"))
            concept_id, source = concepts.coded(resource.get("code"), "Condition")
            rows["condition_occurrence"].append({"condition_occurrence_id": next_id("condition_occurrence"), "person_id": person_id,
                                                 "condition_concept_id": concept_id, "condition_start_date": day,
                                                 "condition_start_datetime": stamp, "condition_type_concept_id": 0,
                                                 "visit_occurrence_id": visit_id, "condition_source_value": source,
                                                 "condition_source_concept_id": concept_id})
        elif kind in ("MedicationRequest", "MedicationAdministration"):
            day, stamp = date_time(resource.get("authoredOn") or resource.get("effectiveDateTime")
                                   or (resource.get("effectivePeriod") or {}).get("start"))
            concept_id, source = concepts.coded(resource.get("medicationCodeableConcept"), "Drug")
            rows["drug_exposure"].append({"drug_exposure_id": next_id("drug_exposure"), "person_id": person_id,
                                          "drug_concept_id": concept_id, "drug_exposure_start_date": day,
                                          "drug_exposure_start_datetime": stamp, "drug_exposure_end_date": day,
                                          "drug_type_concept_id": 0, "visit_occurrence_id": visit_id, "drug_source_value": source,
                                          "drug_source_concept_id": concept_id})
        elif kind == "Procedure":
            day, stamp = date_time(resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get("start"))
            concept_id, source = concepts.coded(resource.get("code"), "Procedure")
            rows["procedure_occurrence"].append({"procedure_occurrence_id": next_id("procedure_occurrence"), "person_id": person_id,
                                                 "procedure_concept_id": concept_id, "procedure_date": day, "procedure_datetime": stamp,
                                                 "procedure_type_concept_id": 0, "visit_occurrence_id": visit_id,
                                                 "procedure_source_value": source, "procedure_source_concept_id": concept_id})
        elif kind == "Observation":
            day, stamp = date_time(resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get("start")
                                   or resource.get("issued"))
            categories = {c.get("code") for cat in resource.get("category", []) for c in cat.get("coding", [])}
            parts = [resource] + resource.get("component", [])
            for part in parts:
                quantity = part.get("valueQuantity")
                if part is resource and resource.get("component") and not quantity:
                    continue
                concept_id, source = concepts.coded(part.get("code"), "Measurement")
                if categories & {"laboratory", "vital-signs"} and quantity and quantity.get("value") is not None:
                    unit = quantity.get("code") or quantity.get("unit") or ""
                    unit_id = concepts.id("UCUM", unit, unit, "Unit") if unit else 0
                    ranges = (resource.get("referenceRange") or [{}])[0] if part is resource else {}
                    rows["measurement"].append({"measurement_id": next_id("measurement"), "person_id": person_id,
                                                "measurement_concept_id": concept_id, "measurement_date": day,
                                                "measurement_datetime": stamp, "measurement_type_concept_id": 0,
                                                "value_as_number": quantity["value"], "unit_concept_id": unit_id,
                                                "range_low": (ranges.get("low") or {}).get("value", ""),
                                                "range_high": (ranges.get("high") or {}).get("value", ""),
                                                "visit_occurrence_id": visit_id, "measurement_source_value": source,
                                                "measurement_source_concept_id": concept_id, "unit_source_value": unit})
                else:
                    value = part.get("valueString") or (part.get("valueCodeableConcept") or {}).get("text") \
                        or next((c.get("display") for c in (part.get("valueCodeableConcept") or {}).get("coding", [])), None)
                    rows["observation"].append({"observation_id": next_id("observation"), "person_id": person_id,
                                                "observation_concept_id": concept_id, "observation_date": day,
                                                "observation_datetime": stamp, "observation_type_concept_id": 0,
                                                "value_as_number": quantity.get("value", "") if quantity else "",
                                                "value_as_string": value or "", "visit_occurrence_id": visit_id,
                                                "observation_source_value": source, "observation_source_concept_id": concept_id,
                                                "unit_source_value": (quantity or {}).get("unit", "")})
        elif kind in ("DocumentReference", "DiagnosticReport", "Composition"):
            if kind == "Composition":
                text = "\n".join(re.sub(r"<[^>]+>", " ", (s.get("text") or {}).get("div", "")).strip()
                                 for s in resource.get("section", []))
                title = (resource.get("type") or {}).get("text") or resource.get("title") or "Note"
                when = resource.get("date")
            else:
                attachments = [c.get("attachment") for c in resource.get("content", [])] + resource.get("presentedForm", [])
                text = next((t for t in map(attachment_text, attachments) if t), None)
                concept = resource.get("type") if kind == "DocumentReference" else resource.get("code")
                concept = concept or {}
                title = concept.get("text") or next((c.get("display") for c in concept.get("coding", []) if c.get("display")), "Note")
                when = resource.get("date") or resource.get("effectiveDateTime") or resource.get("issued")
            if not text or not text.strip() or not when:
                continue
            day, stamp = date_time(when)
            discharge = "discharge" in title.lower()
            class_id = concepts.id("Note Class", "DS" if discharge else "NOTE", "Discharge summary" if discharge else "Note", "Note")
            rows["note"].append({"note_id": next_id("note"), "person_id": person_id, "note_date": day, "note_datetime": stamp,
                                 "note_type_concept_id": 0, "note_class_concept_id": class_id, "note_title": title,
                                 "note_text": text, "encoding_concept_id": 0, "language_concept_id": 0,
                                 "visit_occurrence_id": visit_id})
    rows["concept"] = concepts.rows

    os.makedirs(args.out, exist_ok=True)
    suffix = (".tsv" if args.tab else ".csv") + (".gz" if args.gzip else "")
    for table, columns in TABLES.items():
        path = os.path.join(args.out, table + suffix)
        opener = gzip.open if args.gzip else open
        with opener(path, "wt", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, delimiter="\t" if args.tab else ",", restval="",
                                    quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            writer.writeheader()
            for row in rows[table]:
                writer.writerow(row)
    print(json.dumps({table: len(rows[table]) for table in TABLES}))


if __name__ == "__main__":
    sys.exit(main())
