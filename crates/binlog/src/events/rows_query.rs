//! The statement behind the following rows events: MySQL's ROWS_QUERY
//! (binlog_rows_query_log_events=ON) and MariaDB's ANNOTATE_ROWS
//! (binlog_annotate_row_events=ON).

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowsQueryEvent<'a> {
    pub query: &'a [u8],
}

impl<'a> RowsQueryEvent<'a> {
    /// ROWS_QUERY: a length byte (only the length mod 256, so the server
    /// ignores it) and the text to the end of the event.
    pub fn parse_rows_query(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        r.skip(1)?;
        Ok(RowsQueryEvent {
            query: r.take_rest(),
        })
    }

    /// ANNOTATE_ROWS: the text is the whole body.
    pub fn parse_annotate_rows(body: &'a [u8]) -> Result<Self, BodyError> {
        Ok(RowsQueryEvent { query: body })
    }

    pub fn query_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_query_skips_the_length_byte() {
        let e = RowsQueryEvent::parse_rows_query(b"\x05INSERT").unwrap();
        assert_eq!(e.query_str(), "INSERT");
        assert!(RowsQueryEvent::parse_rows_query(b"").is_err());
        assert_eq!(
            RowsQueryEvent::parse_annotate_rows(b"UPDATE t")
                .unwrap()
                .query,
            b"UPDATE t"
        );
    }
}
