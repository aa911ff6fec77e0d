//! The human report of `binlog-analyzer check-config`.

use std::fmt::Write;

use super::{Config, HashKeySource, QueryPolicy};
use crate::record::Operation;

/// What a loaded config will do, for humans: source, stores, batching,
/// each table with its columns, masking and rules, then notes and
/// warnings. Never prints secrets.
pub fn check_report(cfg: &Config) -> String {
    let mut out = String::new();
    let _ = write_report(cfg, &mut out);
    out
}

fn write_report(cfg: &Config, out: &mut String) -> std::fmt::Result {
    writeln!(out, "config: {}", cfg.files.config)?;
    if let Some(t) = &cfg.files.tables {
        writeln!(out, "tables: {t}")?;
    }

    match &cfg.mysql.source {
        Some(src) if !src.files.is_empty() => {
            let files: Vec<String> = src.files.iter().map(|f| f.display().to_string()).collect();
            writeln!(out, "source: local binlog files {}", files.join(", "))?;
        }
        Some(src) => {
            let start = if src.binlog.log_file.is_empty() {
                "the server's current end".to_string()
            } else {
                format!("{}:{}", src.binlog.log_file, src.binlog.log_pos)
            };
            writeln!(
                out,
                "source: {}@{}:{} (server_id {}, tls {}, password {}), first run starts at {}, resumes by {}",
                src.user,
                src.host,
                src.port,
                src.binlog.server_id,
                src.tls.as_str(),
                if src.password.is_empty() { "empty" } else { "set" },
                start,
                if src.binlog.auto_position { "GTID" } else { "file and position" },
            )?;
        }
        None => writeln!(
            out,
            "source: none configured (give binlog files on the command line)"
        )?,
    }

    let s = &cfg.storage;
    let stores: Vec<String> = s
        .all()
        .iter()
        .map(|k| {
            let mut name = k.as_str().to_string();
            match k {
                super::StorageKind::Sqlite => {
                    let _ = write!(name, " ({})", s.sqlite_path().display());
                }
                super::StorageKind::Mysql => {
                    if let Some(m) = &cfg.mysql.storage {
                        let _ = write!(name, " ({}@{}:{}/{})", m.user, m.host, m.port, m.database);
                    }
                }
                _ => name.push_str(" (not implemented: skipped)"),
            }
            name
        })
        .collect();
    writeln!(out, "storage: {}", stores.join(", then "))?;
    if s.retention_days == 0 {
        writeln!(out, "retention: keep everything")?;
    } else {
        writeln!(
            out,
            "retention: {} days, purged every {}s",
            s.retention_days,
            s.purge_interval.as_secs()
        )?;
    }
    let b = cfg.batch_settings();
    writeln!(
        out,
        "batching: up to {} changes or {:.3}s per batch, at transaction boundaries (transactions over {} changes are written in parts)",
        b.batch_size,
        b.flush_interval.as_secs_f64(),
        b.max_buffered
    )?;

    let hash_key = match cfg.hash_key_source() {
        HashKeySource::Inline(_) => "masking.hash_key".to_string(),
        HashKeySource::File(p) => format!("{} (created on first run if missing)", p.display()),
    };
    let query = match cfg.masking.effective_query_policy(cfg.any_sensitive()) {
        QueryPolicy::Keep | QueryPolicy::Auto => "kept as logged",
        QueryPolicy::Redact => "literals replaced by ?",
        QueryPolicy::Drop => "dropped",
    };
    writeln!(
        out,
        "masking: hash key from {hash_key}; statement text {query}"
    )?;
    if cfg.api.enabled {
        writeln!(
            out,
            "api: http://{} (token {})",
            cfg.api.listen,
            if cfg.api.token.is_some() {
                "required"
            } else {
                "not set"
            }
        )?;
    } else {
        writeln!(out, "api: disabled")?;
    }

    let t = &cfg.tables;
    if t.entries.is_empty() {
        writeln!(out, "tables: every table, all operations, all columns")?;
    } else {
        writeln!(out, "tables ({}):", t.entries.len())?;
    }
    for e in &t.entries {
        let ops: Vec<&str> = e
            .operations
            .iter()
            .map(|o: &Operation| o.as_str())
            .collect();
        write!(out, "  {}  [{}]", e.pattern, ops.join(","))?;
        if let Some(d) = &e.description {
            write!(out, "  {d}")?;
        }
        writeln!(out)?;
        match &e.track_columns {
            Some(cols) => writeln!(out, "    columns: {}", cols.join(", "))?,
            None => writeln!(out, "    columns: all")?,
        }
        if let Some(pk) = &e.primary_key {
            writeln!(out, "    primary key: {}", pk.join(", "))?;
        }
        let masked = e.masked_columns(cfg.masking.default_strategy);
        if !masked.is_empty() {
            let list: Vec<String> = masked
                .iter()
                .map(|(c, spec)| {
                    let tracked = e
                        .track_columns
                        .as_ref()
                        .is_none_or(|t| t.iter().any(|x| x.eq_ignore_ascii_case(c)));
                    if tracked {
                        format!("{c} ({spec})")
                    } else {
                        format!("{c} (not tracked: never stored)")
                    }
                })
                .collect();
            writeln!(out, "    sensitive: {}", list.join(", "))?;
        }
        for r in &e.rules {
            let mut what = Vec::new();
            if r.alert {
                what.push(format!("alert {}", r.priority.as_str()));
            }
            if r.track {
                what.push("tag".to_string());
            }
            writeln!(
                out,
                "    rule {} [{}]: {}",
                r.name,
                what.join(", "),
                r.condition
            )?;
        }
    }
    if !t.exclude.is_empty() {
        let ex: Vec<String> = t.exclude.iter().map(|p| p.to_string()).collect();
        writeln!(out, "excluded: {}", ex.join(", "))?;
    }
    for n in &cfg.notes {
        writeln!(out, "note: {n}")?;
    }
    for w in &cfg.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(
        out,
        "OK{}",
        if cfg.warnings.is_empty() {
            String::new()
        } else {
            format!(" ({} warning(s))", cfg.warnings.len())
        }
    )
}
