//! # testkit — a hermetic, private MariaDB for live tests
//!
//! [`MariaDb::start`] initialises a fresh datadir in a temp directory, starts
//! `mariadbd` on a free port of 127.0.0.1 and its own socket with binary
//! logging in ROW format, and waits until it accepts connections. It never
//! touches a system server (no option files are read: `--no-defaults`).
//! Dropping the handle kills the server and removes the directory.
//!
//! SQL goes through the `mariadb` command-line client over the socket, so the
//! kit needs no driver crate. Query results are read from the client's XML
//! output, which marks NULL explicitly and passes every byte through except
//! NUL (which the client prints as a space): select `HEX(col)` when bytes must
//! be exact.
//!
//! Servers held by [`MariaDb::shared`] live in statics, whose destructors never
//! run; a small watchdog process therefore kills every server (and removes
//! its directory) once the owning test process is gone, also after a crash.
//!
//! Environment:
//! - `TESTKIT_MARIADB_BINDIR`: look for `mariadbd`, `mariadb-install-db` and
//!   `mariadb` there first (then `$PATH`, `/usr/sbin`, `/usr/local/mysql/bin`).
//! - `CI=true`: a missing MariaDB makes [`MariaDb::start_or_skip`] and
//!   [`MariaDb::shared`] panic instead of skipping.
//! - `TESTKIT_KEEP=1`: keep the directory (datadir, binlogs, error log) after
//!   drop, for post-mortems.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// Extra server arguments on top of the kit's defaults (see [`MariaDb::start`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    pub extra_args: Vec<String>,
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one `mariadbd` argument, e.g. `--binlog-row-metadata=FULL`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// Where the MariaDB programs live.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub server: PathBuf,
    pub install_db: PathBuf,
    pub client: PathBuf,
}

impl Binaries {
    /// Finds the programs, or says which one is missing.
    pub fn find() -> std::result::Result<Binaries, String> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("TESTKIT_MARIADB_BINDIR") {
            dirs.push(PathBuf::from(dir));
        }
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        for extra in [
            "/usr/sbin",
            "/usr/local/sbin",
            "/usr/local/mysql/bin",
            "/usr/local/bin",
        ] {
            dirs.push(PathBuf::from(extra));
        }
        let find = |names: &[&str]| -> std::result::Result<PathBuf, String> {
            for dir in &dirs {
                for name in names {
                    let candidate = dir.join(name);
                    if candidate.is_file() {
                        return Ok(candidate);
                    }
                }
            }
            Err(format!(
                "MariaDB program {} not found (install mariadb-server and mariadb-client, \
                 or set TESTKIT_MARIADB_BINDIR)",
                names.join(" / ")
            ))
        };
        Ok(Binaries {
            // mysqld is deliberately not accepted: it may be MySQL, whose flags differ.
            server: find(&["mariadbd"])?,
            install_db: find(&["mariadb-install-db", "mysql_install_db"])?,
            client: find(&["mariadb", "mysql"])?,
        })
    }
}

/// Sizes that keep a fresh datadir around 25 MB and start-up well under a second.
/// `mariadb-install-db` must get the same InnoDB file layout as the server.
const INNODB_ARGS: &[&str] = &[
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-data-file-path=ibdata1:12M:autoextend",
];

const MAX_ALLOWED_PACKET: &str = "--max-allowed-packet=256M";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running private server. Killed and removed on drop.
pub struct MariaDb {
    bins: Binaries,
    dir: PathBuf,
    datadir: PathBuf,
    socket: PathBuf,
    port: u16,
    server: Child,
    watchdog: Option<Child>,
}

impl MariaDb {
    /// Starts a fresh server with the kit's defaults plus `opts.extra_args`:
    /// `--log-bin=<datadir>/mysql-bin --binlog-format=ROW --server-id=1`,
    /// utf8mb4 server charset, small InnoDB files, root with an empty password.
    pub fn start(opts: Options) -> Result<MariaDb> {
        let bins = Binaries::find().map_err(|e| anyhow!(e))?;
        let dir = make_private_dir()?;
        let datadir = dir.join("data");
        match Self::start_in(bins, &dir, &datadir, &opts) {
            Ok(db) => Ok(db),
            Err(err) => {
                if std::env::var_os("TESTKIT_KEEP").is_none() {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(err)
            }
        }
    }

    fn start_in(bins: Binaries, dir: &Path, datadir: &Path, opts: &Options) -> Result<MariaDb> {
        fresh_datadir(&bins, dir, datadir)?;
        let socket = dir.join("mariadb.sock");
        let error_log = dir.join("error.log");
        // A port can be taken between probing and binding; retry with another.
        let mut last_err = None;
        for _attempt in 0..3 {
            let port = free_port()?;
            let mut cmd = Command::new(&bins.server);
            cmd.arg("--no-defaults");
            if running_as_root() {
                cmd.arg("--user=root");
            }
            cmd.arg(format!("--datadir={}", datadir.display()))
                .arg(format!("--tmpdir={}", private_tmpdir(dir)?.display()))
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
                .arg(format!("--log-error={}", error_log.display()))
                .arg(format!("--log-bin={}", datadir.join("mysql-bin").display()))
                .arg("--binlog-format=ROW")
                .arg("--server-id=1")
                .arg("--skip-name-resolve")
                .arg("--character-set-server=utf8mb4")
                .arg("--collation-server=utf8mb4_general_ci")
                // Tests need no durability; fsync per commit only slows big workloads.
                .arg("--innodb-flush-log-at-trx-commit=2")
                .arg(MAX_ALLOWED_PACKET)
                .args(INNODB_ARGS)
                .args(&opts.extra_args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let server = cmd
                .spawn()
                .with_context(|| format!("spawning {}", bins.server.display()))?;
            let watchdog = spawn_watchdog(server.id(), dir);
            let mut db = MariaDb {
                bins: bins.clone(),
                dir: dir.to_path_buf(),
                datadir: datadir.to_path_buf(),
                socket: socket.clone(),
                port,
                server,
                watchdog,
            };
            match db.wait_ready(&error_log) {
                Ok(()) => return Ok(db),
                Err(err) => {
                    db.stop_processes();
                    // Forget the handle without running Drop: the caller decides
                    // whether the directory goes.
                    std::mem::forget(db);
                    let log = read_tail(&error_log, 4000);
                    let port_taken = log.contains("Address already in use");
                    last_err = Some(err.context(format!("server error log:\n{log}")));
                    if !port_taken {
                        break;
                    }
                    let _ = std::fs::remove_file(&error_log);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("server did not start")))
    }

    /// Like [`MariaDb::start`], but when MariaDB is not installed prints a note
    /// and returns `None` — unless `CI=true`, where that is a failure (panic).
    /// A server that is installed but fails to start always panics.
    pub fn start_or_skip(opts: Options) -> Option<MariaDb> {
        if !available_or_skip() {
            return None;
        }
        match MariaDb::start(opts) {
            Ok(db) => Some(db),
            Err(err) => panic!("private MariaDB failed to start: {err:#}"),
        }
    }

    /// One server per distinct `opts` per test process, started on first use.
    /// Same skip rules as [`MariaDb::start_or_skip`]. The watchdog stops it
    /// when the process ends.
    pub fn shared(opts: Options) -> Option<&'static MariaDb> {
        static SERVERS: Mutex<Vec<(Options, &'static MariaDb)>> = Mutex::new(Vec::new());
        if !available_or_skip() {
            return None;
        }
        // Held across the start so concurrent tests don't start twins.
        let mut servers = SERVERS.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some((_, db)) = servers.iter().find(|(o, _)| *o == opts) {
            return Some(db);
        }
        let db = match MariaDb::start(opts.clone()) {
            Ok(db) => db,
            Err(err) => panic!("private MariaDB failed to start: {err:#}"),
        };
        let db: &'static MariaDb = Box::leak(Box::new(db));
        servers.push((opts, db));
        Some(db)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The server's error log (useful in assertion messages).
    pub fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// A `mariadb` client command connected to this server as root; add
    /// arguments (e.g. `-e`) and run it yourself.
    pub fn client_command(&self) -> Command {
        let mut cmd = Command::new(&self.bins.client);
        cmd.arg("--no-defaults")
            .arg("--protocol=socket")
            .arg(format!("--socket={}", self.socket.display()))
            .arg("--user=root")
            .arg("--default-character-set=utf8mb4")
            .arg(MAX_ALLOWED_PACKET);
        cmd
    }

    /// Runs SQL (one or more `;`-separated statements). Comments are kept, so
    /// they show up in ANNOTATE_ROWS events.
    pub fn exec(&self, sql: &str) -> Result<()> {
        self.run_client(sql, &["--batch", "--raw", "--skip-column-names"])
            .map(drop)
    }

    /// Runs SQL and returns the rows of the last result set; `None` is NULL.
    /// Values are the client's text (bytes in the connection charset utf8mb4);
    /// invalid UTF-8 is an error — use [`MariaDb::query_bytes`] or `HEX()`.
    pub fn query(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        self.query_bytes(sql)?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| {
                        cell.map(|bytes| {
                            String::from_utf8(bytes).map_err(|e| {
                                anyhow!("query result is not UTF-8 (select HEX() instead): {e}")
                            })
                        })
                        .transpose()
                    })
                    .collect()
            })
            .collect()
    }

    /// Like [`MariaDb::query`] with raw bytes. Every byte is exact except NUL,
    /// which the client prints as a space.
    pub fn query_bytes(&self, sql: &str) -> Result<Vec<Vec<Option<Vec<u8>>>>> {
        let out = self.run_client(sql, &["--xml"])?;
        parse_xml_result(&out)
    }

    /// The first column of the first row, or `None` for NULL / no rows.
    pub fn query_value(&self, sql: &str) -> Result<Option<String>> {
        Ok(self
            .query(sql)?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .flatten())
    }

    /// All binlog files of this server, oldest first (SHOW BINARY LOGS).
    pub fn binlog_files(&self) -> Result<Vec<PathBuf>> {
        self.query("SHOW BINARY LOGS")?
            .into_iter()
            .map(|row| match row.into_iter().next().flatten() {
                Some(name) => Ok(self.datadir.join(name)),
                None => bail!("SHOW BINARY LOGS returned a row without a name"),
            })
            .collect()
    }

    /// The binlog file being written and the position of its end.
    pub fn binlog_position(&self) -> Result<(PathBuf, u64)> {
        let rows = self.query("SHOW MASTER STATUS")?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("SHOW MASTER STATUS is empty: binary logging is off"))?;
        let mut cells = row.into_iter();
        let file = cells.next().flatten().ok_or_else(|| anyhow!("no file"))?;
        let pos = cells
            .next()
            .flatten()
            .ok_or_else(|| anyhow!("no position"))?;
        Ok((self.datadir.join(file), pos.parse()?))
    }

    /// Closes the current binlog and opens the next one.
    pub fn flush_logs(&self) -> Result<()> {
        self.exec("FLUSH BINARY LOGS")
    }

    fn run_client(&self, sql: &str, mode_args: &[&str]) -> Result<Vec<u8>> {
        let mut child = self
            .client_command()
            .arg("--binary-mode")
            .arg("--comments")
            .args(mode_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("spawning the mariadb client")?;
        let mut stdin = child.stdin.take().context("client stdin")?;
        // Written from a thread: a large result must not block a large script.
        let sql_bytes = sql.as_bytes().to_vec();
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            stdin.write_all(&sql_bytes)?;
            stdin.write_all(b";\n")
        });
        let output = child.wait_with_output().context("waiting for the client")?;
        // A broken pipe here just means the client stopped at an error, reported below.
        let _ = writer.join();
        if !output.status.success() {
            let mut shown: String = sql.chars().take(600).collect();
            if shown.len() < sql.len() {
                shown.push_str(" …");
            }
            bail!(
                "SQL failed ({}): {}\nSQL: {shown}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }

    fn wait_ready(&mut self, error_log: &Path) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.server.try_wait()? {
                bail!(
                    "mariadbd exited during start-up ({status}); see {}",
                    error_log.display()
                );
            }
            if self.socket.exists() {
                let ping = self
                    .client_command()
                    .args(["--batch", "-e", "SELECT 1"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()?;
                if ping.success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("mariadbd did not accept connections within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop_processes(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.stop_processes();
        if std::env::var_os("TESTKIT_KEEP").is_some() {
            eprintln!("testkit: kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// True when MariaDB is installed. Otherwise prints why the test is skipped,
/// or panics under `CI=true` so that CI cannot pass without the live tests.
pub fn available_or_skip() -> bool {
    match Binaries::find() {
        Ok(_) => true,
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but the live MariaDB tests cannot run: {why}");
            }
            eprintln!("note: skipping live MariaDB test: {why}");
            false
        }
    }
}

/// A fresh datadir: a copy of a per-user template initialised once per
/// server binary (mariadb-install-db takes 0.5–4 s; copying ~25 MB takes
/// milliseconds). A bootstrap datadir holds no absolute paths, so copies
/// are independent servers. `TESTKIT_NO_TEMPLATE=1` always installs afresh.
fn fresh_datadir(bins: &Binaries, dir: &Path, datadir: &Path) -> Result<()> {
    if std::env::var_os("TESTKIT_NO_TEMPLATE").is_some() {
        return install_datadir(bins, dir, datadir);
    }
    let template = template_datadir(bins)?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(&template)
        .arg(datadir)
        .status()
        .context("running cp")?;
    if !status.success() {
        bail!("copying {} failed ({status})", template.display());
    }
    Ok(())
}

/// `<tmp>/binlog-testkit-template-<uid>-<key>/data`, built on first use.
/// Concurrent test processes each build into a private name and rename it
/// into place, so a half-written template is never used.
fn template_datadir(bins: &Binaries) -> Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    let meta = std::fs::metadata(&bins.server)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bins.server.hash(&mut hasher);
    meta.len().hash(&mut hasher);
    meta.modified().ok().hash(&mut hasher);
    INNODB_ARGS.hash(&mut hasher);
    let uid = effective_uid().unwrap_or(u32::MAX);
    let name = format!("binlog-testkit-template-{uid}-{:016x}", hasher.finish());
    let template = temp_base().join(name);
    let data = template.join("data");
    if data.join("mysql").is_dir() {
        return Ok(data);
    }
    let building = make_private_dir()?;
    install_datadir(bins, &building, &building.join("data"))?;
    // Only data/ is part of the template; the rest is the build's scratch.
    let _ = std::fs::remove_dir_all(building.join("tmp"));
    let _ = std::fs::remove_file(building.join("install.log"));
    if std::fs::rename(&building, &template).is_err() {
        // Another process finished first: use theirs.
        let _ = std::fs::remove_dir_all(&building);
    }
    if data.join("mysql").is_dir() {
        Ok(data)
    } else {
        bail!("template datadir {} is missing", data.display())
    }
}

fn install_datadir(bins: &Binaries, dir: &Path, datadir: &Path) -> Result<()> {
    let log_path = dir.join("install.log");
    let log = std::fs::File::create(&log_path)?;
    let mut cmd = Command::new(&bins.install_db);
    cmd.arg("--no-defaults")
        .arg("--auth-root-authentication-method=normal")
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--tmpdir={}", private_tmpdir(dir)?.display()))
        .arg("--skip-test-db")
        .args(INNODB_ARGS);
    if running_as_root() {
        cmd.arg("--user=root");
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("running {}", bins.install_db.display()))?;
    if !status.success() {
        bail!(
            "{} failed ({status}):\n{}",
            bins.install_db.display(),
            read_tail(&log_path, 4000)
        );
    }
    Ok(())
}

/// A new directory owned by this process: `<tmp>/binlog-testkit-<pid>-<n>`.
fn make_private_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = temp_base();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("binlog-testkit-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // Left over from an earlier process with the same pid.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
}

/// The server's own temp directory: with the shared /tmp, concurrent
/// bootstraps were seen to lose each other's `#sql-temptable-*` files.
fn private_tmpdir(dir: &Path) -> Result<PathBuf> {
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    Ok(tmp)
}

/// Unix sockets are limited to ~107 bytes, hence `/tmp` when `$TMPDIR` is long.
fn temp_base() -> PathBuf {
    let base = std::env::temp_dir();
    if base.as_os_str().len() > 60 {
        PathBuf::from("/tmp")
    } else {
        base
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("probing for a free port")?;
    Ok(listener.local_addr()?.port())
}

fn running_as_root() -> bool {
    effective_uid() == Some(0)
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Kills the server and removes `dir` once this process or the server is gone.
/// Best effort: without `sh` the server is only stopped by Drop.
fn spawn_watchdog(server_pid: u32, dir: &Path) -> Option<Child> {
    const SCRIPT: &str = r#"
while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
kill -9 "$2" 2>/dev/null
sleep 1
[ -n "$TESTKIT_KEEP" ] || rm -rf -- "$3"
"#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("testkit-watchdog")
        .arg(std::process::id().to_string())
        .arg(server_pid.to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

fn read_tail(path: &Path, max: usize) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(bytes.get(start..).unwrap_or_default()).into_owned()
}

/// Rows of the last `<resultset>` in the client's `--xml` output.
///
/// The client escapes `< > & "` in values and names and writes NULL as
/// `<field name="…" xsi:nil="true" />`, so a plain scan is exact.
pub fn parse_xml_result(out: &[u8]) -> Result<Vec<Vec<Option<Vec<u8>>>>> {
    let Some(start) = rfind(out, b"<resultset") else {
        return Ok(Vec::new());
    };
    let mut rest = out.get(start..).unwrap_or_default();
    let mut rows = Vec::new();
    while let Some(row_start) = find(rest, b"<row>") {
        let after_row = rest.get(row_start + 5..).unwrap_or_default();
        let row_end = find(after_row, b"</row>").ok_or_else(|| anyhow!("unterminated <row>"))?;
        let mut row_xml = after_row.get(..row_end).unwrap_or_default();
        let mut row = Vec::new();
        while let Some(field_start) = find(row_xml, b"<field name=\"") {
            let after_name_start = row_xml.get(field_start + 13..).unwrap_or_default();
            let name_end =
                find(after_name_start, b"\"").ok_or_else(|| anyhow!("unterminated field name"))?;
            let after_name = after_name_start.get(name_end + 1..).unwrap_or_default();
            if after_name.starts_with(b" xsi:nil=\"true\"") {
                row.push(None);
                let close = find(after_name, b"/>").ok_or_else(|| anyhow!("bad NULL field"))?;
                row_xml = after_name.get(close + 2..).unwrap_or_default();
            } else if let Some(value_and_rest) = after_name.strip_prefix(b">") {
                let value_end = find(value_and_rest, b"</field>")
                    .ok_or_else(|| anyhow!("unterminated field"))?;
                row.push(Some(unescape_xml(
                    value_and_rest.get(..value_end).unwrap_or_default(),
                )));
                row_xml = value_and_rest.get(value_end + 8..).unwrap_or_default();
            } else {
                bail!("unexpected XML after a field name");
            }
        }
        rows.push(row);
        rest = after_row.get(row_end + 6..).unwrap_or_default();
    }
    Ok(rows)
}

fn unescape_xml(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'&' {
            let tail = text.get(i..).unwrap_or_default();
            let known: [(&[u8], u8); 5] = [
                (b"&lt;", b'<'),
                (b"&gt;", b'>'),
                (b"&amp;", b'&'),
                (b"&quot;", b'"'),
                (b"&apos;", b'\''),
            ];
            if let Some((entity, ch)) = known.iter().find(|(e, _)| tail.starts_with(e)) {
                out.push(*ch);
                i += entity.len();
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_result_keeps_null_distinct_from_the_string_null() {
        let xml = r#"<?xml version="1.0"?>

<resultset statement="select ..." xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <row>
	<field name="a" xsi:nil="true" />
	<field name="b">NULL</field>
	<field name="c">&lt;&gt;&amp;&quot;</field>
	<field name="d"></field>
  </row>
  <row>
	<field name="a">1</field>
	<field name="b">x
y</field>
	<field name="c">&amp;lt;</field>
	<field name="d">é</field>
  </row>
</resultset>
"#;
        let rows = parse_xml_result(xml.as_bytes()).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![
                    None,
                    Some(b"NULL".to_vec()),
                    Some(b"<>&\"".to_vec()),
                    Some(Vec::new())
                ],
                vec![
                    Some(b"1".to_vec()),
                    Some(b"x\ny".to_vec()),
                    Some(b"&lt;".to_vec()),
                    Some("é".as_bytes().to_vec())
                ],
            ]
        );
    }

    #[test]
    fn xml_result_takes_the_last_result_set() {
        let xml = br#"<resultset statement="a"><row><field name="x">1</field></row></resultset>
<resultset statement="b"><row><field name="y">2</field></row></resultset>"#;
        assert_eq!(
            parse_xml_result(xml).unwrap(),
            vec![vec![Some(b"2".to_vec())]]
        );
    }

    #[test]
    fn live_server_round_trips_null_bytes_and_binlogs() {
        let Some(db) = MariaDb::start_or_skip(Options::new()) else {
            return;
        };
        assert!(
            db.query("SELECT x'ff'").is_err(),
            "query() refuses invalid UTF-8"
        );
        let raw = db.query_bytes("SELECT x'3c26ff0a'").unwrap();
        assert_eq!(raw, vec![vec![Some(vec![0x3c, 0x26, 0xff, 0x0a])]]);
        let row = &db
            .query("SELECT NULL, 'NULL', '', '😀', HEX(x'00')")
            .unwrap()[0];
        assert_eq!(row[0], None);
        assert_eq!(row[1].as_deref(), Some("NULL"));
        assert_eq!(row[2].as_deref(), Some(""));
        assert_eq!(row[3].as_deref(), Some("😀"));
        assert_eq!(row[4].as_deref(), Some("00"));

        db.exec("CREATE DATABASE kit; CREATE TABLE kit.t (id INT PRIMARY KEY); INSERT INTO kit.t VALUES (1)")
            .unwrap();
        let before = db.binlog_files().unwrap();
        db.flush_logs().unwrap();
        let after = db.binlog_files().unwrap();
        assert_eq!(after.len(), before.len() + 1);
        for file in &after {
            let magic = std::fs::read(file).unwrap();
            assert_eq!(magic.get(..4), Some(&b"\xfebin"[..]), "{}", file.display());
        }
        let err = db.exec("SELECT * FROM kit.missing").unwrap_err();
        assert!(format!("{err}").contains("doesn't exist"), "{err}");

        let dir = db.dir.clone();
        drop(db);
        assert!(!dir.exists(), "drop removes the private directory");
    }
}
