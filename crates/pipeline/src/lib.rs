//! # pipeline — from decoded row changes to stored change records
//!
//! Stages run in one direction: filter (database/table/operation, tracked
//! columns) → change record with per-column diffs → masking of sensitive
//! columns → rule evaluation (tags and alerts) → batching. The record type
//! ([`record::ChangeRecord`]) is the contract with the stores and the API.

pub mod record;
