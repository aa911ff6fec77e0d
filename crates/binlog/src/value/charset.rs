//! Decoding text by the column's collation id.
