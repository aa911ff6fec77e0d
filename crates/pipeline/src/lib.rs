//! # pipeline — from decoded row changes to stored change records
//!
//! Stages run in one direction: filter (database/table/operation, tracked
//! columns) → change record with per-column diffs → masking of sensitive
//! columns → rule evaluation (tags and alerts) → batching. The record type
//! ([`record::ChangeRecord`]) is the contract with the stores and the API.
//!
//! - [`config`]: the YAML files (`Config::load`, `validate`, `check_report`).
//! - [`filter`]: which tables, with which settings.
//! - [`build`]: [`Pipeline`] turns rows into masked records, tags, alerts.
//! - [`mask`]: hash / partial / redact, statement redaction.
//! - [`rules`]: SQL conditions with three-valued logic.
//! - [`batch`]: [`Batcher`] groups records at transaction boundaries.

pub mod batch;
pub mod build;
pub mod config;
pub mod filter;
pub mod mask;
pub mod record;
pub mod rules;

pub use batch::{Batch, Batcher};
pub use build::{Pipeline, PreparedTable, Processed, RowContext};
pub use config::{check_report, Config, ConfigError, ConfigIssue};
pub use record::{ChangeKey, ChangeRecord, Checkpoint, JsonText, Operation};
pub use rules::{Alert, Priority};
