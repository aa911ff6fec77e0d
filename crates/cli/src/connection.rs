//! From command-line flags and `--config` to the live source's settings
//! (`stream`, `check`).
//!
//! Precedence: a flag, then the config file's `mysql.source` block, then
//! the defaults. The password: `--password`, then `$BINLOG_ANALYZER_PASSWORD`,
//! then `$MYSQL_PWD`, then the config file (which itself takes
//! `$BINLOG_ANALYZER_SOURCE_PASSWORD` over the file's value).

use std::path::Path;

use source::{SourceConfig, StartPosition, TlsMode};

use crate::cli::{ConnectionArgs, StartArgs, TlsArg};
use crate::UsageError;

/// Environment variables read for the password, in order.
pub const PASSWORD_ENV: [&str; 2] = ["BINLOG_ANALYZER_PASSWORD", "MYSQL_PWD"];

/// The source settings the flags and config describe. Every problem is a
/// [`UsageError`] naming the flag or the config key.
pub fn source_config(
    conn: &ConnectionArgs,
    start: &StartArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SourceConfig, UsageError> {
    let mut cfg = SourceConfig::new("localhost", 3306, "");
    let mut config_password = None;
    if let Some(path) = &conn.config {
        config_password = Some(apply_config_file(&mut cfg, path, env)?);
    }
    if let Some(h) = &conn.host {
        cfg.host = h.clone();
    }
    if let Some(p) = conn.port {
        cfg.port = p;
    }
    if let Some(u) = &conn.user {
        cfg.user = u.clone();
    }
    if let Some(id) = conn.server_id {
        cfg.server_id = id;
    }
    if let Some(t) = conn.tls {
        cfg.tls = tls_mode(t);
    }
    if let Some(ca) = &conn.ca {
        cfg.ca_file = Some(ca.clone());
    }
    cfg.password = conn
        .password
        .clone()
        .or_else(|| {
            PASSWORD_ENV
                .iter()
                .find_map(|v| env(v).filter(|p| !p.is_empty()))
        })
        .or(config_password)
        .unwrap_or_default();
    if let Some(s) = start.position() {
        cfg.start = s;
    }

    let from_config = if conn.config.is_some() {
        " (or mysql.source.user in --config)"
    } else {
        ""
    };
    if cfg.user.trim().is_empty() {
        return Err(UsageError(format!("--user is required{from_config}")));
    }
    if cfg.host.trim().is_empty() {
        return Err(UsageError("--host: empty host name".into()));
    }
    if cfg.port == 0 {
        return Err(UsageError("--port: expected 1-65535".into()));
    }
    if cfg.server_id == 0 {
        return Err(UsageError(
            "--server-id: 0 is not a replica id; choose one no other server or replica uses".into(),
        ));
    }
    if matches!(cfg.tls, TlsMode::VerifyCa | TlsMode::VerifyIdentity) {
        match &cfg.ca_file {
            None => {
                return Err(UsageError(
                    "--tls verify-ca / verify-identity needs --ca FILE (a PEM CA bundle)".into(),
                ))
            }
            Some(ca) if !ca.is_file() => {
                return Err(UsageError(format!("--ca: no such file: {}", ca.display())))
            }
            Some(_) => {}
        }
    }
    Ok(cfg)
}

/// Take the `mysql.source` block of a config.yaml; returns its password.
fn apply_config_file(
    cfg: &mut SourceConfig,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, UsageError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("--config: cannot read {name}: {e}")))?;
    // Syntax, types and unknown keys of the whole file; the meaning of the
    // other sections is not this command's business.
    let config = pipeline::Config::parse(&text, &name, None, env)
        .map_err(|e| UsageError(format!("--config: {e}")))?;
    let Some(src) = config.mysql.source else {
        return Err(UsageError(format!(
            "--config: {name} has no mysql.source block"
        )));
    };
    if !src.files.is_empty() {
        return Err(UsageError(format!(
            "--config: {name}: mysql.source.files names local binlog files; read them with `binlog-analyzer parse FILE…`"
        )));
    }
    runner::apply_connection_settings(&src, cfg);
    // `auto_position` matters when resuming from a saved GTID state; a
    // fresh start has none, so it starts from log_file/log_pos or the end.
    if !src.binlog.log_file.is_empty() {
        if src.binlog.log_pos < 4 {
            return Err(UsageError(format!(
                "--config: {name}: mysql.source.binlog.log_pos: expected at least 4 (the first event of a file), got {}",
                src.binlog.log_pos
            )));
        }
        cfg.start = StartPosition::FilePos {
            file: src.binlog.log_file,
            pos: src.binlog.log_pos,
        };
    }
    Ok(src.password.expose().to_string())
}

fn tls_mode(t: TlsArg) -> TlsMode {
    match t {
        TlsArg::Off => TlsMode::Off,
        TlsArg::Preferred => TlsMode::Preferred,
        TlsArg::Required => TlsMode::Required,
        TlsArg::VerifyCa => TlsMode::VerifyCa,
        TlsArg::VerifyIdentity => TlsMode::VerifyIdentity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn stream_args(args: &[&str]) -> crate::cli::StreamArgs {
        let mut full = vec!["binlog-analyzer", "stream"];
        full.extend(args);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Stream(s) => s,
            other => panic!("stream expected, got {other:?}"),
        }
    }

    fn config_of(args: &[&str], env: &[(&str, &str)]) -> Result<SourceConfig, UsageError> {
        let a = stream_args(args);
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        source_config(&a.connection, &a.start, &lookup)
    }

    fn temp_config(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "binlog-analyzer-conn-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("config.yaml");
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The seed's `mysql.source` block, as written in its config.yaml.
    const SEED_SOURCE: &str = r#"
mysql:
  source:
    host: "db.example"
    port: 3307
    user: "binlog_reader"
    password: "from-file"
    charset: "utf8mb4"
    binlog:
      server_id: 1001
      log_file: "mysql-bin.000007"
      log_pos: 120
      auto_position: true
  storage:
    host: "localhost"
    port: 3306
    user: "storage_user"
    password: "password"
    database: "binlog_analysis"
"#;

    #[test]
    fn seed_config_source_block_is_used_and_flags_override_it() {
        let p = temp_config("seed", SEED_SOURCE);
        let path = p.to_str().unwrap();
        let cfg = config_of(&["--config", path], &[]).unwrap();
        assert_eq!(
            (cfg.host.as_str(), cfg.port, cfg.user.as_str()),
            ("db.example", 3307, "binlog_reader")
        );
        assert_eq!(cfg.password, "from-file");
        assert_eq!(cfg.server_id, 1001);
        assert_eq!(
            cfg.start,
            StartPosition::FilePos {
                file: "mysql-bin.000007".into(),
                pos: 120
            }
        );
        let cfg = config_of(
            &[
                "--config",
                path,
                "--host",
                "127.0.0.1",
                "--server-id",
                "77",
                "--from-start",
            ],
            &[("MYSQL_PWD", "from-env")],
        )
        .unwrap();
        assert_eq!((cfg.host.as_str(), cfg.port), ("127.0.0.1", 3307));
        assert_eq!(cfg.server_id, 77);
        assert_eq!(cfg.password, "from-env", "environment beats the file");
        assert_eq!(cfg.start, StartPosition::Earliest);
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }

    #[test]
    fn config_heartbeat_tls_and_schema_tracking_reach_stream() {
        let p = temp_config(
            "settings",
            "mysql:\n  source:\n    user: repl\n    tls: required\n    track_schema: false\n    heartbeat_period: 250ms\n    read_timeout: 3s\n",
        );
        let cfg = config_of(&["--config", p.to_str().unwrap()], &[]).unwrap();
        assert_eq!(cfg.heartbeat, std::time::Duration::from_millis(250));
        assert_eq!(cfg.read_timeout, std::time::Duration::from_secs(3));
        assert_eq!(cfg.tls, TlsMode::Required);
        assert!(!cfg.track_schema);
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
    }

    #[test]
    fn password_precedence_flag_then_env_vars() {
        let env = [("BINLOG_ANALYZER_PASSWORD", "a"), ("MYSQL_PWD", "b")];
        let cfg = config_of(&["-u", "r", "--password", "flag"], &env).unwrap();
        assert_eq!(cfg.password, "flag");
        let cfg = config_of(&["-u", "r"], &env).unwrap();
        assert_eq!(cfg.password, "a");
        let cfg = config_of(&["-u", "r"], &env[1..]).unwrap();
        assert_eq!(cfg.password, "b");
        let cfg = config_of(&["-u", "r"], &[("MYSQL_PWD", "")]).unwrap();
        assert_eq!(cfg.password, "");
    }

    #[test]
    fn start_flags_map_to_start_positions() {
        let start = |args: &[&str]| {
            let mut full = vec!["-u", "r"];
            full.extend(args);
            config_of(&full, &[]).unwrap().start
        };
        assert_eq!(start(&[]), StartPosition::End);
        assert_eq!(
            start(&["--from-file", "mysql-bin.000002"]),
            StartPosition::FilePos {
                file: "mysql-bin.000002".into(),
                pos: 4
            }
        );
        assert_eq!(
            start(&["--from-file", "mysql-bin.000002", "--from-pos", "1234"]),
            StartPosition::FilePos {
                file: "mysql-bin.000002".into(),
                pos: 1234
            }
        );
        assert!(matches!(
            start(&["--from-gtid", "0-1-5,1-2-3"]),
            StartPosition::MariaGtid(l) if l.to_string() == "0-1-5,1-2-3"
        ));
        assert!(matches!(
            start(&["--from-gtid", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"]),
            StartPosition::MysqlGtid(_)
        ));
        assert_eq!(
            start(&["--from-time", "2024-01-15 10:30:00+02:00"]),
            StartPosition::Timestamp(1_705_307_400)
        );
    }

    #[test]
    fn bad_connection_settings_name_the_flag() {
        let err = |args: &[&str]| config_of(args, &[]).unwrap_err().to_string();
        assert!(err(&[]).contains("--user"));
        assert!(err(&["-u", "r", "--tls", "verify-ca"]).contains("--ca"));
        let p = temp_config("files", "mysql:\n  source:\n    files: [a.bin]\n");
        let e = err(&["--config", p.to_str().unwrap()]);
        assert!(e.contains("binlog-analyzer parse"), "{e}");
        let p2 = temp_config("typo", "mysql:\n  source:\n    hots: x\n");
        let e = err(&["--config", p2.to_str().unwrap()]);
        assert!(e.contains("hots"), "{e}");
        std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
        std::fs::remove_dir_all(p2.parent().unwrap()).unwrap();
    }

    #[test]
    fn start_flags_exclude_each_other() {
        for args in [
            vec!["--from-start", "--from-gtid", "0-1-2"],
            vec!["--from-file", "f", "--from-time", "2024-01-01"],
            vec!["--from-pos", "100"],
            vec!["--from-file", "f", "--from-pos", "2"],
            vec!["--from-gtid", ""],
            vec!["--from-gtid", "0-1"],
        ] {
            let mut full = vec!["binlog-analyzer", "stream", "-u", "r"];
            full.extend(&args);
            assert!(Cli::try_parse_from(&full).is_err(), "{args:?} accepted");
        }
    }
}
