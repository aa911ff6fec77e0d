//! The real binlog corpus: where it is, which files are binlogs, reading them.

use std::io::Read;
use std::path::{Path, PathBuf};

/// `$BINLOG_FIXTURES`, else `shared/fixtures/binlog` beside the repository.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("BINLOG_FIXTURES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/binlog"),
    }
}

/// The corpus directory, or `None` (with a note on stderr) when it is missing
/// and we are not under CI. Under `CI=true` a missing corpus is a failure:
/// a green CI run must never mean "compared nothing".
pub fn require_fixtures(test: &str) -> Option<PathBuf> {
    let dir = fixtures_dir();
    if dir.join("MANIFEST.md").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!(
            "{test}: binlog corpus not found at {} (set BINLOG_FIXTURES); required under CI=true",
            dir.display()
        );
    }
    eprintln!(
        "{test}: SKIPPED — binlog corpus not found at {} (set BINLOG_FIXTURES)",
        dir.display()
    );
    None
}

/// Every binlog in the corpus (recursively), sorted by path: files that start
/// with the binlog magic, plus gzip files (the sakila binlog is stored gzipped).
pub fn binlog_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
            continue;
        }
        let mut head = [0u8; 4];
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue;
        };
        if f.read_exact(&mut head).is_ok()
            && (head == [0xfe, b'b', b'i', b'n'] || head[..2] == [0x1f, 0x8b])
        {
            out.push(path);
        }
    }
}

/// The binlog bytes of `path`, gunzipped when the file is gzip.
pub fn read_binlog(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 3);
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Path relative to the corpus directory, for messages.
pub fn display_name(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The `mariadb-binlog` transcript saved beside a corpus file, if any.
pub fn mariadb_transcript(path: &Path) -> Option<PathBuf> {
    let mut name = path.file_name()?.to_os_string();
    name.push(".mariadb-binlog.txt");
    let txt = path.with_file_name(name);
    txt.is_file().then_some(txt)
}

/// Corpus files (paths relative to the corpus directory) for which
/// MANIFEST.md says "mariadb-binlog: decodes fully", i.e. its transcript
/// reaches the last event and can be compared in full.
pub fn mariadb_fully_decoded(dir: &Path) -> std::io::Result<std::collections::BTreeSet<String>> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md"))?;
    let mut out = std::collections::BTreeSet::new();
    let mut current: Option<String> = None;
    for line in manifest.lines() {
        // "## 12. `binlog-connector-java/mysql-bin.checksum-crc32`"
        if let Some(rest) = line.strip_prefix("## ") {
            current = rest
                .split('`')
                .nth(1)
                .filter(|_| {
                    rest.split('.')
                        .next()
                        .is_some_and(|n| n.trim().parse::<u32>().is_ok())
                })
                .map(str::to_string);
        } else if line.starts_with("- **mariadb-binlog**: decodes fully") {
            if let Some(name) = current.take() {
                out.insert(name);
            }
        }
    }
    Ok(out)
}
