//! Fuzz drivers. Each is also compiled into a test that replays
//! `fuzz/regressions/<target>/` (by `#[path]`), so what the fuzzer exercises
//! and what `cargo test` replays are the same code: `drive.rs` into
//! `compat/tests/fuzz_regressions.rs`, `rules.rs` into
//! `crates/pipeline/tests/fuzz_regressions.rs`.

pub mod drive;
pub mod rules;
