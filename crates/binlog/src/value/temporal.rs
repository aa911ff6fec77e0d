//! Temporal values (DATE, TIME, DATETIME, TIMESTAMP) and their binlog encodings.

/// DATE; zero parts are allowed (MySQL zero dates like 0000-00-00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// TIME: a signed duration up to ±838:59:59.999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    pub negative: bool,
    pub hours: u32,
    pub minutes: u8,
    pub seconds: u8,
    pub micros: u32,
    /// Fractional-second precision of the column (0..=6): how many digits to print.
    pub fsp: u8,
}

/// DATETIME: wall-clock date and time, no time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
    pub fsp: u8,
}

/// TIMESTAMP: seconds since the Unix epoch (UTC) plus fraction.
/// `seconds == 0 && micros == 0` is MySQL's zero timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub seconds: u32,
    pub micros: u32,
    pub fsp: u8,
}
