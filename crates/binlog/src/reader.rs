//! Splitting a byte stream into raw events.
