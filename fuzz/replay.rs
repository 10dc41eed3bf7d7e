//! The corpus replay shared by the domain and web crates' `tests/fuzz_corpus.rs` (each includes
//! this file): every committed input a fuzzer once found interesting is run again through the
//! check its target runs, with or without cargo-fuzz installed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Runs every target's check over every file of `fuzz/corpus/<target>/`. A target without a
/// fuzz target file, or with a missing or empty corpus (which would test nothing), fails; so
/// does every file whose check panicked, each named.
pub fn replay_all(targets: &[yongxin_domain::fuzzing::Target]) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut failed = Vec::new();
    for (name, check) in targets {
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "no fuzz target for {name}"
        );
        let dir = fuzz.join("corpus").join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "corpus {} is empty", dir.display());
        for f in files {
            let data = std::fs::read(&f).expect("corpus file");
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                failed.push(format!("{name}: {}", f.display()));
            }
        }
    }
    assert!(failed.is_empty(), "the checks fail on {failed:#?}");
}
