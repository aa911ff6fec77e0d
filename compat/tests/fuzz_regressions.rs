//! `cargo test` guards against panics the way the fuzzer does, without
//! needing nightly or libFuzzer:
//!
//! 1. every crash input saved under `fuzz/regressions/<target>/` is replayed
//!    through the same driver the fuzz target uses (`fuzz/src/drive.rs`);
//! 2. a deterministic mutation loop over the corpus files — truncation at and
//!    around every event boundary, corrupted event-size fields, corrupted
//!    bytes at the start of every event body (where the length fields are)
//!    with the CRC32 recomputed so the damage reaches the body decoders, and
//!    seeded random bit flips — must never panic. It is bounded in time.
//!
//! A failing input is written to the test's temporary directory; copy it into
//! `fuzz/regressions/decode_stream/` so it is replayed forever.

#[path = "../../fuzz/src/drive.rs"]
#[allow(dead_code)] // the fuzz targets use all of it, this test most
mod drive;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use binlog_compat::corpus;

/// Mutation inputs are cut to this many bytes: enough to hold several
/// transactions, small enough that thousands of decodes fit the budget.
const MAX_INPUT: usize = 64 * 1024;
/// Wall-clock budget of the mutation loop (debug build).
const BUDGET: Duration = Duration::from_secs(6);

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

/// The input each test is decoding right now, for the watchdog's message.
static REPLAYING: Mutex<String> = Mutex::new(String::new());
static MUTATING: Mutex<String> = Mutex::new(String::new());

/// Run `body` on a worker thread and fail if it has not finished within
/// `limit`, naming the input being decoded: a hang is a bug too (a fuzzer
/// reports it as a timeout), and must not stall the test suite.
fn within(limit: Duration, slot: &'static Mutex<String>, body: fn()) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        body();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => {}
        Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => {
            let current = slot.lock().map(|s| s.clone()).unwrap_or_default();
            panic!("decoding did not finish within {limit:?}; it hangs on: {current}");
        }
    }
}

/// Run `f` on `input`; on panic save the input and describe the failure.
fn guarded(
    slot: &Mutex<String>,
    label: &str,
    input: &[u8],
    f: impl FnOnce(&[u8]) -> drive::Outcome,
) -> Result<drive::Outcome, String> {
    if let Ok(mut current) = slot.lock() {
        current.clear();
        current.push_str(label);
    }
    match catch_unwind(AssertUnwindSafe(|| f(input))) {
        Ok(outcome) => Ok(outcome),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let safe: String = label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let saved =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-regression-{safe}.bin"));
            let _ = std::fs::write(&saved, input);
            Err(format!(
                "{label}: PANIC {msg} (input saved to {})",
                saved.display()
            ))
        }
    }
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.retain(|p| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    });
    files.sort();
    files
}

#[test]
fn saved_fuzz_crash_inputs_do_not_panic() {
    within(Duration::from_secs(120), &REPLAYING, replay_saved_inputs);
}

fn replay_saved_inputs() {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for path in files_in(&regressions_dir().join("decode_stream")) {
        let input = std::fs::read(&path).unwrap();
        replayed += 1;
        if let Err(e) = guarded(
            &REPLAYING,
            &path.display().to_string(),
            &input,
            drive::decode_stream,
        ) {
            failures.push(e);
        }
    }
    let event_inputs = files_in(&regressions_dir().join("decode_event"));
    if !event_inputs.is_empty() {
        if let Some(dir) = corpus::require_fixtures("saved_fuzz_crash_inputs_do_not_panic") {
            let fdes = drive::corpus_fdes(&dir);
            for path in event_inputs {
                let input = std::fs::read(&path).unwrap();
                replayed += 1;
                if let Err(e) = guarded(&REPLAYING, &path.display().to_string(), &input, |i| {
                    drive::decode_event(&fdes, i)
                }) {
                    failures.push(e);
                }
            }
        }
    }
    eprintln!("replayed {replayed} saved fuzz inputs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (start offset, size) of every event after the magic, as far as the
/// headers chain.
fn event_spans(data: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 4;
    while let Some(header) = data.get(pos..pos + drive::HEADER_LEN) {
        let size = u32::from_le_bytes([header[9], header[10], header[11], header[12]]) as usize;
        if size < drive::HEADER_LEN || pos + size > data.len() {
            break;
        }
        spans.push((pos, size));
        pos += size;
    }
    spans
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Recompute the CRC32 of the event at `span` so a corruption inside it is
/// seen by the body decoders instead of stopping at the checksum check.
fn fix_crc(data: &mut [u8], (start, size): (usize, usize)) {
    let end = start + size;
    let crc = crc32fast::hash(&data[start..end - 4]);
    data[end - 4..end].copy_from_slice(&crc.to_le_bytes());
}

enum Mutation {
    Truncate(usize),
    EventSize(usize, u32),
    Byte {
        event: (usize, usize),
        at: usize,
        value: u8,
    },
    Flips {
        event: (usize, usize),
        bits: Vec<(usize, u8)>,
    },
}

impl Mutation {
    /// The mutated input and a label naming the mutation. Body corruptions
    /// get a valid CRC32 when the file has checksums.
    fn apply(&self, name: &str, data: &[u8], checksummed: bool) -> (String, Vec<u8>) {
        match self {
            Mutation::Truncate(cut) => {
                (format!("{name} truncated at {cut}"), data[..*cut].to_vec())
            }
            Mutation::EventSize(start, bad) => {
                let mut m = data.to_vec();
                m[start + 9..start + 13].copy_from_slice(&bad.to_le_bytes());
                (format!("{name} event at {start} size {bad}"), m)
            }
            Mutation::Byte { event, at, value } => {
                let mut m = data.to_vec();
                m[*at] = *value;
                if checksummed {
                    fix_crc(&mut m, *event);
                }
                (format!("{name} byte {at} = {value:#04x}"), m)
            }
            Mutation::Flips { event, bits } => {
                let mut m = data.to_vec();
                for &(at, mask) in bits {
                    m[at] ^= mask;
                }
                if checksummed {
                    fix_crc(&mut m, *event);
                }
                (
                    format!("{name} bit flips {bits:?} in event at {}", event.0),
                    m,
                )
            }
        }
    }
}

#[test]
fn corpus_mutations_never_panic() {
    within(BUDGET + Duration::from_secs(60), &MUTATING, mutate_corpus);
}

fn mutate_corpus() {
    let Some(dir) = corpus::require_fixtures("corpus_mutations_never_panic") else {
        return;
    };
    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut runs = 0u64;
    let mut check = |label: String, input: &[u8]| {
        runs += 1;
        if let Err(e) = guarded(&MUTATING, &label, input, drive::decode_stream) {
            failures.push(e);
        }
    };
    let files = corpus::binlog_files(&dir);
    // Round-robin over mutation kinds so that a tight budget still covers
    // every kind on every file.
    let inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            let mut bytes = corpus::read_binlog(p).unwrap();
            bytes.truncate(MAX_INPUT);
            (corpus::display_name(&dir, p), bytes)
        })
        .collect();
    // Every (file, kind) pair yields a list of mutations; they are run
    // interleaved (the i-th of every list, then the i+1-th, …) so that
    // when the time budget ends, every kind has been tried on every file.
    let mut streams: Vec<(&str, &Vec<u8>, Vec<Mutation>)> = Vec::new();
    for (name, data) in &inputs {
        let spans = event_spans(data);
        let checksummed = spans
            .first()
            .is_some_and(|&(s, n)| drive::has_valid_crc(&data[s..s + n]));
        let mut truncations = Vec::new();
        let mut sizes = Vec::new();
        let mut bytes = Vec::new();
        for &(start, size) in &spans {
            // Truncated at, just after, inside the header of, and just
            // after the header of every event.
            for cut in [
                start,
                start + 1,
                start + drive::HEADER_LEN - 1,
                start + drive::HEADER_LEN + 1,
            ] {
                if cut <= data.len() {
                    truncations.push(Mutation::Truncate(cut));
                }
            }
            // Event-size field corruption.
            for bad in [
                0u32,
                1,
                18,
                19,
                size as u32 - 1,
                size as u32 + 1,
                0x7fff_ffff,
                u32::MAX,
            ] {
                sizes.push(Mutation::EventSize(start, bad));
            }
            // The first bytes of the body (post-header: ids, counts, lengths)
            // set to extremes.
            let body = start + drive::HEADER_LEN;
            let body_end = start + size - if checksummed { 4 } else { 0 };
            for at in body..body_end.min(body + 24) {
                for value in [0x00u8, 0xff, 0xfc, 0xfe] {
                    bytes.push(Mutation::Byte {
                        event: (start, size),
                        at,
                        value,
                    });
                }
            }
        }
        // Seeded random bit flips anywhere in a body.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ data.len() as u64);
        let mut flips = Vec::new();
        for _ in 0..200 {
            let Some(&(start, size)) = spans.get(rng.below(spans.len())) else {
                break;
            };
            if size <= drive::HEADER_LEN {
                continue; // no body to flip
            }
            let bits: Vec<(usize, u8)> = (0..1 + rng.below(4))
                .map(|_| {
                    let at = start + drive::HEADER_LEN + rng.below(size - drive::HEADER_LEN);
                    (at, 1u8 << rng.below(8))
                })
                .collect();
            flips.push(Mutation::Flips {
                event: (start, size),
                bits,
            });
        }
        for list in [truncations, sizes, bytes, flips] {
            streams.push((name.as_str(), data, list));
        }
    }
    let longest = streams.iter().map(|s| s.2.len()).max().unwrap_or(0);
    let mut exhausted = false;
    'rounds: for i in 0..longest {
        for (name, data, list) in &streams {
            let Some(mutation) = list.get(i) else {
                continue;
            };
            if started.elapsed() > BUDGET {
                exhausted = true;
                break 'rounds;
            }
            let checksummed = event_spans(data)
                .first()
                .is_some_and(|&(s, n)| drive::has_valid_crc(&data[s..s + n]));
            let (label, input) = mutation.apply(name, data, checksummed);
            check(label, &input);
        }
    }
    eprintln!(
        "{runs} mutated inputs decoded in {:.1}s{}",
        started.elapsed().as_secs_f64(),
        if exhausted {
            " (time budget reached)"
        } else {
            ""
        }
    );
    assert!(
        failures.is_empty(),
        "{} mutated inputs made the decoder panic:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(runs > 1000, "only {runs} mutated inputs tried");
}
