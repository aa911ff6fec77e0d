//! One module per event type. Each parses from the event body (after the
//! common header, without the checksum) and borrows from it where it can.

pub mod rows;
pub mod table_map;
