//! Transaction grouping.
