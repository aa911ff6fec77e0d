//! `BinlogStream`: reader plus decoder state.
