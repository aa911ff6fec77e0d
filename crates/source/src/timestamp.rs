//! Start-by-timestamp: the binlog file that holds the first transaction
//! committed at or after a time.
//!
//! Each file starts with a FORMAT_DESCRIPTION written when the file was
//! opened, so its timestamp is the file's start time. Scanning from the
//! newest file back, the first file that started at or before the time
//! holds the wanted transaction (or it is in a later file); the stream then
//! skips the transactions that began before the time.

use crate::config::SourceConfig;
use crate::error::{DefiniteError, SourceError};
use crate::protocol::{binlog_dump_packet, dump_flags, DumpConn, Reply};
use crate::server;

/// The file to start reading from for UNIX time `t`.
pub async fn first_file_for(
    cfg: &SourceConfig,
    side: &mut mysql_async::Conn,
    t: u64,
) -> Result<String, SourceError> {
    let logs = server::binary_logs(side, cfg).await?;
    let Some((oldest, _)) = logs.first().cloned() else {
        return Err(DefiniteError::BinlogOff.into());
    };
    for (file, _) in logs.iter().rev() {
        if let Some(started) = file_start_time(cfg, file).await? {
            if started <= t {
                return Ok(file.clone());
            }
        }
    }
    Ok(oldest)
}

/// Timestamp of the first real event of `file` (its FORMAT_DESCRIPTION).
pub async fn file_start_time(cfg: &SourceConfig, file: &str) -> Result<Option<u64>, SourceError> {
    let mut conn = DumpConn::connect(cfg).await?;
    conn.execute("SET @master_binlog_checksum = @@global.binlog_checksum")
        .await?;
    if conn.greeting.is_mariadb() {
        conn.execute("SET @mariadb_slave_capability = 4").await?;
    }
    // server_id 0, as mysqlbinlog's: a probe must not make the server drop
    // another replica's dump that uses the same id.
    conn.send_dump(&binlog_dump_packet(0, file, 4, dump_flags::NON_BLOCK))
        .await?;
    for _ in 0..8 {
        match conn.next_dump_packet().await? {
            Reply::Data(bytes) => {
                let Some(head) = bytes.get(..19) else {
                    continue;
                };
                let ts = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
                let log_pos = u32::from_le_bytes([head[13], head[14], head[15], head[16]]);
                if log_pos != 0 {
                    return Ok(Some(ts as u64));
                }
            }
            Reply::Eof | Reply::Ok => return Ok(None),
            Reply::Err { .. } => return Ok(None),
        }
    }
    Ok(None)
}
