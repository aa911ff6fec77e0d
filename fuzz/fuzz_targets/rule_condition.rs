//! A rule condition (and optionally row images), compiled and evaluated for
//! every operation and image pairing. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = binlog_fuzz::rules::evaluate(data);
});
