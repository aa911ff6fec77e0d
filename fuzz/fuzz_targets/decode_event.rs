//! Structured: a valid FORMAT_DESCRIPTION from a real corpus file (chosen by
//! the first input byte) followed by fuzzed events whose framing (sizes,
//! positions, CRC32) is made valid, so mutations land in the event and value
//! decoders rather than in the framing checks. Must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use binlog_fuzz::drive;

static FDES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fdes = FDES.get_or_init(|| {
        let dir = drive::fixtures_dir();
        let fdes = drive::corpus_fdes(&dir);
        assert!(
            !fdes.is_empty(),
            "decode_event needs the binlog corpus for its FDE prefixes: none found in {} (set BINLOG_FIXTURES)",
            dir.display()
        );
        fdes
    });
    drive::decode_event(fdes, data);
});
