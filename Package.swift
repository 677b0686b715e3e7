// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "thinkgraph",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "thinkgraph", targets: ["thinkgraph"]),
        .library(name: "Lexicon", targets: ["Lexicon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // System libraries (Debian: libsqlite3-dev, libxml2-dev, zlib1g-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),

        // Shared plumbing: located errors, streaming line reader, SHA-256, atomic folders.
        .target(name: "TGSupport", dependencies: ["CZlib"]),
        // A thin, safe Swift face on SQLite: bound parameters only.
        .target(name: "SQLiteDB", dependencies: ["CSQLite"]),
        // SimString: an exact, memory-mapped approximate-string index.
        .systemLibrary(name: "CPrefetch", path: "Sources/CPrefetch"),
        .target(name: "SimString", dependencies: ["CPrefetch", "TGSupport"]),
        // The lexicon store and its importers (UMLS RRF, OBO, ICD-10-CM XML).
        .target(name: "Lexicon", dependencies: ["SQLiteDB", "SimString", "TGSupport", "CLibXML2"]),

        // Stage 1: concepts in text (QuickUMLS-style matching with context).
        .target(name: "Matcher", dependencies: ["CPrefetch", "Lexicon", "SimString", "TGSupport"],
                resources: [.copy("Resources/context-triggers.tsv")]),

        // Patients as event timelines: the JSONL format, importers (FHIR R4
        // bulk NDJSON, MIMIC-IV CSV), EHR-R1 rendering, tasks and samples.
        .target(name: "EHR", dependencies: ["TGSupport", "CLibXML2"],
                resources: [.copy("Resources/ehr-r1-tasks.json"), .copy("Resources/omop-tasks.json")]),

        // The pipeline runtime: run folder and manifest, chunks, resumable
        // chunk writers, merge, progress, and the typed stage records.
        .target(name: "Runtime", dependencies: ["TGSupport"]),

        // Stage 1: concepts of every event (structured values and free text).
        .target(name: "Extraction", dependencies: ["EHR", "Lexicon", "Matcher", "Runtime", "SimString", "TGSupport"]),

        // Stage 2: task-wise co-occurrence counts and lift.
        .target(name: "Cooccurrence", dependencies: ["EHR", "Extraction", "Runtime", "SQLiteDB", "TGSupport"]),

        // Stage 3: the relation graph and evidence paths.
        .target(name: "Evidence", dependencies: ["Cooccurrence", "CPrefetch", "EHR", "Extraction", "Lexicon", "Runtime", "SQLiteDB", "TGSupport"]),

        // The LLM client: OpenAI-compatible chat completions over libcurl.
        .target(name: "LLM", dependencies: ["CCurl", "TGSupport"]),

        // Stages 4 and 5: reasoning chains from a model, and the filter.
        .target(name: "Reasoning", dependencies: ["EHR", "LLM", "Matcher", "Runtime", "TGSupport"],
                resources: [.copy("Resources/prompts"), .copy("Resources/leak-phrases.txt"), .copy("Resources/chain-triggers.tsv")]),

        // Instruction data from the same patients: template questions over events.
        .target(name: "Instruct", dependencies: ["EHR", "LLM", "Reasoning", "Runtime", "TGSupport"],
                resources: [.copy("Resources/qa-templates.json"), .copy("Resources/notes-qa-prompt.txt")]),

        // LLM4EHR's ICU prediction tasks: 48 h mortality and 24 h phenotyping episodes.
        .target(name: "ICUTasks", dependencies: ["EHR", "Runtime", "TGSupport"],
                resources: [.copy("Resources/llm4ehr-variables.tsv"), .copy("Resources/llm4ehr-phenotypes.tsv")]),

        // For curators: any example with its evidence (inspect) and the run report.
        .target(name: "Curation", dependencies: ["EHR", "LLM", "Runtime", "TGSupport"]),

        // The command-line tool: argument parsing and printing only.
        .executableTarget(name: "thinkgraph", dependencies: [
            "Cooccurrence", "Curation", "EHR", "Evidence", "Extraction", "ICUTasks", "Instruct", "Lexicon", "LLM", "Matcher", "Reasoning", "Runtime", "SimString",
            "TGSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "TGSupportTests", dependencies: ["TGSupport", "TestSupport"]),
        .target(name: "TestSupport", dependencies: ["TGSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "MatcherTests", dependencies: ["Matcher", "Lexicon", "SimString", "TestSupport"]),
        .testTarget(name: "SimStringTests", dependencies: ["SimString", "TestSupport"]),
        .testTarget(name: "EvidenceTests", dependencies: ["Evidence", "TGSupport"]),
        .testTarget(name: "CooccurrenceTests", dependencies: ["Cooccurrence"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TGSupport"]),
        .testTarget(name: "EHRTests", dependencies: ["EHR", "TGSupport", "TestSupport"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "TGSupport"]),
        .testTarget(name: "InstructTests", dependencies: ["Instruct", "EHR", "Reasoning", "Runtime", "TGSupport"]),
        .testTarget(name: "ICUTasksTests", dependencies: ["ICUTasks", "EHR", "TGSupport"]),
        .testTarget(name: "ReasoningTests", dependencies: ["Reasoning", "Lexicon", "Matcher", "TestSupport"]),
        .testTarget(name: "LexiconTests", dependencies: ["Lexicon", "SQLiteDB", "SimString", "TGSupport"]),
        // Runs the built executable as a separate process.
        .testTarget(name: "CLITests", dependencies: ["thinkgraph", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
