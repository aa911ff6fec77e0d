//! Fuzz drivers. `drive.rs` is also compiled into
//! `compat/tests/fuzz_regressions.rs` (by `#[path]`), so what the fuzzer
//! exercises and what `cargo test` replays are the same code.

pub mod drive;
