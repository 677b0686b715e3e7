import EHR
import Runtime

/// The patients' train/test split as the run's samples stage drew it: its
/// seed and test fraction from the manifest (the stage's defaults when it
/// has not run). Commands that write other data from the same patients
/// (instruction pairs, ICU episodes) use it, so that a test patient never
/// trains a model evaluated on its samples.
struct SampleSplits {
    var seed: UInt64
    var testFraction: Double

    init(_ manifest: RunManifest) {
        let samples = manifest.stage("samples")?.configuration ?? []
        seed = samples.first { $0.0 == "seed" }?.1.doubleValue.map { UInt64($0) } ?? 42
        testFraction = samples.first { $0.0 == "test_fraction" }?.1.doubleValue ?? 0.1
    }

    var builder: SampleBuilder { SampleBuilder(tasks: [], seed: seed, testFraction: testFraction) }
}
