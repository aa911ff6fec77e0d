//! Replays the `rule_condition` fuzz target's inputs through the same
//! driver (`fuzz/src/rules.rs`) without nightly or libFuzzer: the committed
//! seeds, and every crash input saved under `fuzz/regressions/rule_condition/`.
//! None may panic.

#[path = "../../../fuzz/src/rules.rs"]
mod rules;

use std::path::{Path, PathBuf};

fn inputs(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    files
}

/// The seeds are real conditions: each compiles, so the driver reaches
/// evaluation (3 operations × 4 image pairings) for every one of them.
#[test]
fn rule_condition_seeds_compile_and_evaluate() {
    let seeds = inputs("seeds/rule_condition");
    assert!(seeds.len() >= 10, "{seeds:?}");
    for seed in seeds {
        let data = std::fs::read(&seed).unwrap();
        assert_eq!(rules::evaluate(&data), Some(12), "{}", seed.display());
    }
}

#[test]
fn rule_condition_regressions_do_not_panic() {
    for input in inputs("regressions/rule_condition") {
        let data = std::fs::read(&input).unwrap();
        let _ = rules::evaluate(&data);
    }
}
