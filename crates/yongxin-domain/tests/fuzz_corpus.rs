//! Replays the committed fuzz corpus of the domain's targets (`fuzz/corpus/<target>/`) through
//! the checks the fuzz targets run, so that every `cargo test` re-checks each input a fuzzer once
//! found interesting (crashes it found included).

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[test]
fn every_target_replays_its_corpus() {
    replay::replay_all(yongxin_domain::fuzzing::TARGETS);
}
