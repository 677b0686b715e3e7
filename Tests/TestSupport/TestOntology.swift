/// A small HPO-shaped ontology of clinical findings, shared by the matcher
/// tests and the command-line tests.
public enum TestOntology {
    public static let clinical = """
    ontology: hp.obo

    [Term]
    id: HP:0001250
    name: Seizure
    synonym: "Seizures" EXACT []
    synonym: "Epileptic seizure" EXACT []
    xref: UMLS:C0036572

    [Term]
    id: HP:0002090
    name: Pneumonia
    xref: UMLS:C0032285

    [Term]
    id: HP:0100526
    name: Neoplasm of the lung
    synonym: "Lung cancer" EXACT []
    synonym: "Non-small cell lung carcinoma" EXACT []
    xref: UMLS:C0242379

    [Term]
    id: HP:0003002
    name: Breast carcinoma
    synonym: "Breast cancer" EXACT []
    xref: UMLS:C0678222

    [Term]
    id: HP:0001945
    name: Fever
    xref: UMLS:C0015967

    [Term]
    id: HP:0002315
    name: Headache
    xref: UMLS:C0018681

    [Term]
    id: HP:0011675
    name: Heart failure
    synonym: "Cardiac failure" EXACT []
    xref: UMLS:C0018801

    [Term]
    id: HP:0001635
    name: Congestive heart failure
    xref: UMLS:C0018802
    """
}
