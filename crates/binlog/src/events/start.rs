//! START_EVENT_V3: the first event of binlog v1 (MySQL 3.23) and v3
//! (4.0/4.1) files, before FORMAT_DESCRIPTION existed.

use std::borrow::Cow;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::SERVER_VERSION_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartV3Event<'a> {
    pub binlog_version: u16,
    /// NUL padding removed.
    pub server_version: &'a [u8],
    pub created: u32,
}

impl<'a> StartV3Event<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut r = ByteReader::new(body);
        let binlog_version = r.u16()?;
        let field = r.take(SERVER_VERSION_LEN)?;
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        Ok(StartV3Event {
            binlog_version,
            server_version: &field[..end],
            created: r.u32()?,
        })
    }

    pub fn server_version_str(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.server_version)
    }
}
