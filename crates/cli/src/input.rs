//! Opening inputs: files or stdin, transparently gunzipped, optionally
//! feeding a progress bar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this in total finish before a bar is worth drawing.
const PROGRESS_MIN_BYTES: u64 = 16 * 1024 * 1024;
const READ_BUFFER: usize = 256 * 1024;

/// One input as given on the command line.
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub path: PathBuf,
    /// Name written as `binlog_file`: the file's base name, `stdin` for `-`.
    pub display_name: String,
}

impl InputSpec {
    pub fn new(path: &Path) -> Self {
        let display_name = if is_stdin(path) {
            "stdin".to_string()
        } else {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.to_string_lossy().into_owned())
        };
        InputSpec {
            path: path.to_path_buf(),
            display_name,
        }
    }

    pub fn is_stdin(&self) -> bool {
        is_stdin(&self.path)
    }

    /// The path as the user wrote it, for error messages.
    pub fn shown_path(&self) -> String {
        if self.is_stdin() {
            "<stdin>".into()
        } else {
            self.path.display().to_string()
        }
    }

    /// Open for reading: buffered, gunzipped when the bytes start with the
    /// gzip magic, and counting into `progress`.
    pub fn open(&self, progress: Option<&ProgressBar>) -> Result<Box<dyn Read>> {
        let raw: Box<dyn Read> = if self.is_stdin() {
            Box::new(io::stdin())
        } else {
            let f = File::open(&self.path)
                .with_context(|| format!("cannot open {}", self.shown_path()))?;
            Box::new(f)
        };
        let counted: Box<dyn Read> = match progress {
            Some(bar) => Box::new(Counting {
                inner: raw,
                bar: bar.clone(),
            }),
            None => raw,
        };
        let mut buffered = BufReader::with_capacity(READ_BUFFER, counted);
        let head = buffered
            .fill_buf()
            .with_context(|| format!("cannot read {}", self.shown_path()))?;
        if head.starts_with(&[0x1f, 0x8b]) {
            Ok(Box::new(BufReader::with_capacity(
                READ_BUFFER,
                MultiGzDecoder::new(buffered),
            )))
        } else {
            Ok(Box::new(buffered))
        }
    }

    fn size(&self) -> Option<u64> {
        if self.is_stdin() {
            return None;
        }
        std::fs::metadata(&self.path).ok().map(|m| m.len())
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A progress bar over all inputs when stderr is a terminal and the inputs
/// are large; None otherwise.
pub fn progress_bar(inputs: &[InputSpec], disabled: bool) -> Option<ProgressBar> {
    if disabled || !io::stderr().is_terminal() {
        return None;
    }
    let mut total = 0u64;
    for i in inputs {
        total = total.saturating_add(i.size()?);
    }
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

struct Counting {
    inner: Box<dyn Read>,
    bar: ProgressBar,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn display_names() {
        assert_eq!(
            InputSpec::new(Path::new("/var/lib/mysql/binlog.000001")).display_name,
            "binlog.000001"
        );
        assert_eq!(InputSpec::new(Path::new("-")).display_name, "stdin");
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        let dir =
            std::env::temp_dir().join(format!("binlog-analyzer-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("plain.bin");
        std::fs::write(&plain, b"\xfebin-plain").unwrap();
        let gz = dir.join("packed.bin");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"\xfebin-packed").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for (p, want) in [(plain, &b"\xfebin-plain"[..]), (gz, &b"\xfebin-packed"[..])] {
            let mut got = Vec::new();
            InputSpec::new(&p)
                .open(None)
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(got, want);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = InputSpec::new(Path::new("/nonexistent/x.bin"))
            .open(None)
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("/nonexistent/x.bin"));
    }
}
