//! FORMAT_DESCRIPTION_EVENT: how to read every later event of the file.

/// Checksum algorithm announced by the FORMAT_DESCRIPTION event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlg {
    /// Pre-5.6.1 servers: no checksum byte in the FDE at all.
    Absent,
    Off,
    Crc32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    pub binlog_version: u16,
    pub server_version: String,
    pub create_timestamp: u32,
    pub header_length: u8,
    /// Indexed by (type code − 1).
    pub post_header_lengths: Vec<u8>,
    pub checksum: ChecksumAlg,
}

impl FormatDescription {
    /// Post-header length for an event type, if the FDE lists it.
    pub fn post_header_len(&self, type_code: u8) -> Option<u8> {
        if type_code == 0 {
            return None;
        }
        self.post_header_lengths.get(type_code as usize - 1).copied()
    }

    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }
}
