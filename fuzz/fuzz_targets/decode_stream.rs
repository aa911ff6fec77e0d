//! Arbitrary bytes as a whole binlog file (magic included): iterate every
//! event, decode every row, render every value to JSON. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    binlog_fuzz::drive::decode_stream(data);
});
