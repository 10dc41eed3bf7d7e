//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the checks the fuzz
//! targets run, so that every `cargo test` re-checks each input a fuzzer once found interesting
//! (crashes it found included), with or without cargo-fuzz installed.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use yongxin_web::fuzzing::TARGETS;

/// Runs `check` over every file of `fuzz/corpus/<name>/`. Fails if the directory is missing or
/// empty, which would otherwise test nothing, and names every file whose check panicked.
fn replay(name: &str) {
    let (_, check) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no check named {name}"));
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    assert!(
        fuzz.join("fuzz_targets")
            .join(format!("{name}.rs"))
            .is_file(),
        "no fuzz target for {name}"
    );
    let dir = fuzz.join("corpus").join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|f| {
            let data = std::fs::read(f).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{name}: the check fails on {failed:#?}");
}

/// Each target below has its test; a target added to `TARGETS` without one fails here.
const REPLAYED: [&str; 3] = ["roster_csv", "roster_xlsx", "open311_form"];

#[test]
fn every_target_is_replayed() {
    let mut names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    let mut replayed = REPLAYED.to_vec();
    replayed.sort_unstable();
    assert_eq!(names, replayed);
}

#[test]
fn roster_csv() {
    replay("roster_csv");
}

#[test]
fn roster_xlsx() {
    replay("roster_xlsx");
}

#[test]
fn open311_form() {
    replay("open311_form");
}
