//! The replica ("dump") connection: the client/server protocol just far
//! enough to authenticate, set session variables and stream a binlog.
//!
//! Why not `mysql_async` for this connection too: its binlog stream parses
//! events with `mysql_common` and hands out no raw bytes, and its
//! COM_BINLOG_DUMP request drops every flag but NON_BLOCK — so it can
//! neither feed our decoder the server's exact bytes nor ask MariaDB for
//! ANNOTATE_ROWS (dump flag 2). Everything else (queries, checks, schema
//! snapshots) goes through `mysql_async`. The scramble and RSA helpers are
//! `mysql_common`'s; TLS is rustls, as in `mysql_async`.
//!
//! Packets: 3-byte little-endian length, 1-byte sequence number, payload;
//! a payload of 16 MiB − 1 or more continues in the next packet.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{SourceConfig, TlsMode};
use crate::error::{classify_server_error, DefiniteError, SourceError, TransientError};

/// Largest payload of one physical packet.
const MAX_PACKET: usize = 0xff_ffff;

pub mod caps {
    pub const LONG_PASSWORD: u32 = 1;
    pub const LONG_FLAG: u32 = 4;
    pub const PROTOCOL_41: u32 = 0x200;
    pub const SSL: u32 = 0x800;
    pub const TRANSACTIONS: u32 = 0x2000;
    pub const SECURE_CONNECTION: u32 = 0x8000;
    pub const MULTI_RESULTS: u32 = 0x2_0000;
    pub const PLUGIN_AUTH: u32 = 0x8_0000;
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x20_0000;
}

pub mod command {
    pub const QUERY: u8 = 0x03;
    pub const BINLOG_DUMP: u8 = 0x12;
    pub const REGISTER_SLAVE: u8 = 0x15;
    pub const BINLOG_DUMP_GTID: u8 = 0x1e;
}

/// COM_BINLOG_DUMP flags.
pub mod dump_flags {
    /// Send EOF at the end of the binlog instead of waiting.
    pub const NON_BLOCK: u16 = 0x01;
    /// MariaDB: send ANNOTATE_ROWS events (the SQL behind row events).
    pub const MARIADB_SEND_ANNOTATE_ROWS: u16 = 0x02;
    /// MySQL COM_BINLOG_DUMP_GTID: the request carries a GTID set.
    pub const THROUGH_GTID: u16 = 0x04;
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What the server said in its greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    pub server_version: String,
    pub connection_id: u32,
    pub capabilities: u32,
    pub auth_data: Vec<u8>,
    pub auth_plugin: String,
}

impl Greeting {
    pub fn is_mariadb(&self) -> bool {
        self.server_version.contains("MariaDB")
    }
}

/// One packet read from the server.
pub enum Reply {
    Ok,
    Err {
        code: u16,
        message: String,
    },
    /// EOF (end of a non-blocking dump).
    Eof,
    Data(Vec<u8>),
}

/// An authenticated connection speaking the replication protocol.
pub struct DumpConn {
    io: Box<dyn Io>,
    seq: u8,
    pub greeting: Greeting,
    pub tls: bool,
    user: String,
    server_id: u32,
    read_timeout: Duration,
}

impl DumpConn {
    /// Connect, optionally start TLS, authenticate.
    pub async fn connect(cfg: &SourceConfig) -> Result<DumpConn, SourceError> {
        let addr = cfg.addr();
        let lost = |e: std::io::Error| TransientError::Connect {
            addr: addr.clone(),
            message: e.to_string(),
        };
        let tcp = tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(&addr))
            .await
            .map_err(|_| TransientError::Connect {
                addr: addr.clone(),
                message: format!("timed out after {:?}", cfg.connect_timeout),
            })?
            .map_err(lost)?;
        let _ = tcp.set_nodelay(true);
        let mut conn = DumpConn {
            io: Box::new(tcp),
            seq: 0,
            greeting: Greeting {
                server_version: String::new(),
                connection_id: 0,
                capabilities: 0,
                auth_data: Vec::new(),
                auth_plugin: String::new(),
            },
            tls: false,
            user: cfg.user.clone(),
            server_id: cfg.server_id,
            read_timeout: cfg.connect_timeout,
        };
        let first = conn.read_packet().await?;
        if first.first() == Some(&0xff) {
            let (code, message) = parse_err(&first);
            return Err(conn.server_error(code, &message));
        }
        conn.greeting = parse_greeting(&first).map_err(DefiniteError::Protocol)?;
        conn.handshake(cfg).await?;
        conn.read_timeout = cfg.read_timeout;
        Ok(conn)
    }

    async fn handshake(&mut self, cfg: &SourceConfig) -> Result<(), SourceError> {
        let server_caps = self.greeting.capabilities;
        let mut client_caps = caps::LONG_PASSWORD
            | caps::LONG_FLAG
            | caps::PROTOCOL_41
            | caps::TRANSACTIONS
            | caps::SECURE_CONNECTION
            | caps::MULTI_RESULTS
            | caps::PLUGIN_AUTH
            | caps::PLUGIN_AUTH_LENENC_CLIENT_DATA;
        client_caps &= server_caps | caps::PROTOCOL_41;
        let server_has_tls = server_caps & caps::SSL != 0;
        let want_tls = match cfg.tls {
            TlsMode::Off => false,
            TlsMode::Preferred => server_has_tls,
            TlsMode::Required | TlsMode::VerifyCa | TlsMode::VerifyIdentity => {
                if !server_has_tls {
                    return Err(cfg.tls_not_offered().into());
                }
                true
            }
        };
        // utf8mb4_general_ci; the session charset is set later with SET NAMES.
        let charset: u8 = 45;
        if want_tls {
            client_caps |= caps::SSL;
            let mut req = Vec::with_capacity(32);
            req.extend_from_slice(&client_caps.to_le_bytes());
            req.extend_from_slice(&(MAX_PACKET as u32).to_le_bytes());
            req.push(charset);
            req.extend_from_slice(&[0u8; 23]);
            self.write_packet(&req).await?;
            self.start_tls(cfg).await?;
        }
        let plugin = self.greeting.auth_plugin.clone();
        let nonce = self.greeting.auth_data.clone();
        let auth = auth_response(&plugin, cfg.password.as_bytes(), &nonce, self.tls)?;
        let mut resp = Vec::with_capacity(64 + cfg.user.len());
        resp.extend_from_slice(&client_caps.to_le_bytes());
        resp.extend_from_slice(&(MAX_PACKET as u32).to_le_bytes());
        resp.push(charset);
        resp.extend_from_slice(&[0u8; 23]);
        resp.extend_from_slice(cfg.user.as_bytes());
        resp.push(0);
        if client_caps & caps::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            put_lenenc(&mut resp, auth.len() as u64);
        } else {
            resp.push(auth.len().min(255) as u8);
        }
        resp.extend_from_slice(&auth);
        if client_caps & caps::PLUGIN_AUTH != 0 {
            resp.extend_from_slice(plugin.as_bytes());
            resp.push(0);
        }
        self.write_packet(&resp).await?;
        self.auth_loop(cfg, plugin, nonce).await
    }

    /// Follow auth switches and caching_sha2 exchanges until OK or ERR.
    async fn auth_loop(
        &mut self,
        cfg: &SourceConfig,
        mut plugin: String,
        mut nonce: Vec<u8>,
    ) -> Result<(), SourceError> {
        let password = cfg.password.as_bytes();
        for _ in 0..8 {
            let p = self.read_packet().await?;
            match p.first() {
                Some(0x00) => return Ok(()),
                Some(0xff) => {
                    let (code, message) = parse_err(&p);
                    return Err(self.server_error(code, &message));
                }
                Some(0xfe) => {
                    (plugin, nonce) = parse_auth_switch(&p);
                    let auth = auth_response(&plugin, password, &nonce, self.tls)?;
                    self.write_packet(&auth).await?;
                }
                Some(0x01) => {
                    let data = &p[1..];
                    match (plugin.as_str(), data.first()) {
                        // caching_sha2_password: fast auth succeeded, OK follows.
                        ("caching_sha2_password", Some(3)) => {}
                        ("caching_sha2_password", Some(4)) => {
                            if self.tls {
                                let mut clear = password.to_vec();
                                clear.push(0);
                                self.write_packet(&clear).await?;
                            } else {
                                // Ask for the server's RSA key, then send the
                                // password XOR nonce encrypted with it.
                                self.write_packet(&[2]).await?;
                                let key = self.read_packet().await?;
                                let pem = match key.first() {
                                    Some(0x01) => key[1..].to_vec(),
                                    Some(0xff) => {
                                        let (code, message) = parse_err(&key);
                                        return Err(self.server_error(code, &message));
                                    }
                                    _ => {
                                        return Err(DefiniteError::Protocol(
                                            "expected the server's RSA public key".into(),
                                        )
                                        .into())
                                    }
                                };
                                let encrypted = rsa_encrypt_password(password, &nonce, &pem)?;
                                self.write_packet(&encrypted).await?;
                            }
                        }
                        _ => {
                            return Err(DefiniteError::Protocol(format!(
                                "unexpected auth data for plugin {plugin}"
                            ))
                            .into())
                        }
                    }
                }
                _ => {
                    return Err(DefiniteError::Protocol(
                        "unexpected packet during authentication".into(),
                    )
                    .into())
                }
            }
        }
        Err(DefiniteError::Protocol("authentication did not finish".into()).into())
    }

    async fn start_tls(&mut self, cfg: &SourceConfig) -> Result<(), SourceError> {
        let config = tls::client_config(cfg)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = tls::server_name(&cfg.host)?;
        // Swap the plain stream out to wrap it.
        let plain = std::mem::replace(&mut self.io, Box::new(tokio::io::duplex(1).0));
        let stream = connector
            .connect(name, plain)
            .await
            .map_err(|e| -> SourceError {
                match rustls_error(&e) {
                    Some(reason) => cfg.tls_failed(&e.to_string(), Some(reason)).into(),
                    // A cut connection mid-handshake is worth a retry.
                    None => TransientError::Connect {
                        addr: cfg.addr(),
                        message: format!("during the TLS handshake: {e}"),
                    }
                    .into(),
                }
            })?;
        self.io = Box::new(stream);
        self.tls = true;
        Ok(())
    }

    fn server_error(&self, code: u16, message: &str) -> SourceError {
        classify_server_error(code, message, &self.user, self.server_id, "")
    }

    /// Run a statement that returns no rows (SET …).
    pub async fn execute(&mut self, sql: &str) -> Result<(), SourceError> {
        let mut p = Vec::with_capacity(sql.len() + 1);
        p.push(command::QUERY);
        p.extend_from_slice(sql.as_bytes());
        self.seq = 0;
        self.write_packet(&p).await?;
        match self.read_reply().await? {
            Reply::Ok => Ok(()),
            Reply::Err { code, message } => Err(self.server_error(code, &message)),
            _ => Err(DefiniteError::Protocol(format!("`{sql}` returned rows")).into()),
        }
    }

    /// COM_REGISTER_SLAVE: makes this replica visible in SHOW SLAVE HOSTS.
    pub async fn register_replica(&mut self, port: u16) -> Result<(), SourceError> {
        self.seq = 0;
        let p = register_replica_packet(self.server_id, "binlog-analyzer", &self.user, port);
        self.write_packet(&p).await?;
        match self.read_reply().await? {
            Reply::Ok => Ok(()),
            Reply::Err { code, message } => Err(self.server_error(code, &message)),
            _ => {
                Err(DefiniteError::Protocol("unexpected reply to COM_REGISTER_SLAVE".into()).into())
            }
        }
    }

    /// Send a dump command built by [`binlog_dump_packet`] or
    /// [`binlog_dump_gtid_packet`]; events follow as [`Reply::Data`].
    pub async fn send_dump(&mut self, packet: &[u8]) -> Result<(), SourceError> {
        self.seq = 0;
        self.write_packet(packet).await
    }

    /// The reply to a command: OK, ERR, or anything else as data.
    pub async fn read_reply(&mut self) -> Result<Reply, SourceError> {
        let p = self.read_packet().await?;
        Ok(match p.first() {
            Some(0x00) => Reply::Ok,
            Some(0xff) => {
                let (code, message) = parse_err(&p);
                Reply::Err { code, message }
            }
            Some(0xfe) if p.len() < 9 => Reply::Eof,
            _ => Reply::Data(p),
        })
    }

    /// The next packet of a binlog dump: an event (without the leading
    /// OK byte), an error, or EOF at the end of a non-blocking dump.
    pub async fn next_dump_packet(&mut self) -> Result<Reply, SourceError> {
        let mut p = self.read_packet().await?;
        Ok(match p.first() {
            Some(0x00) => {
                p.remove(0);
                Reply::Data(p)
            }
            Some(0xff) => {
                let (code, message) = parse_err(&p);
                Reply::Err { code, message }
            }
            Some(0xfe) if p.len() < 9 => Reply::Eof,
            _ => {
                return Err(DefiniteError::Protocol(format!(
                    "unexpected packet of {} bytes in the binlog stream",
                    p.len()
                ))
                .into())
            }
        })
    }

    /// Read one logical packet (joining 16 MiB continuations).
    pub async fn read_packet(&mut self) -> Result<Vec<u8>, SourceError> {
        let timeout = self.read_timeout;
        let mut payload = Vec::new();
        loop {
            let mut head = [0u8; 4];
            self.read_exact_timed(&mut head, timeout).await?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
            self.seq = head[3].wrapping_add(1);
            let start = payload.len();
            payload.resize(start + len, 0);
            self.read_exact_timed(&mut payload[start..], timeout)
                .await?;
            if len < MAX_PACKET {
                return Ok(payload);
            }
        }
    }

    async fn read_exact_timed(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<(), SourceError> {
        match tokio::time::timeout(timeout, self.io.read_exact(buf)).await {
            Err(_) => Err(TransientError::Timeout(timeout.as_secs()).into()),
            Ok(Err(e)) => Err(TransientError::ConnectionLost(e.to_string()).into()),
            Ok(Ok(_)) => Ok(()),
        }
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<(), SourceError> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        let mut chunks = payload.chunks(MAX_PACKET).peekable();
        let mut last_len = 0;
        while let Some(chunk) = chunks.next() {
            last_len = chunk.len();
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes()[..3]);
            out.push(self.seq);
            self.seq = self.seq.wrapping_add(1);
            out.extend_from_slice(chunk);
            if chunks.peek().is_none() && last_len == MAX_PACKET {
                out.extend_from_slice(&[0, 0, 0, self.seq]);
                self.seq = self.seq.wrapping_add(1);
            }
        }
        if payload.is_empty() {
            out.extend_from_slice(&[0, 0, 0, self.seq]);
            self.seq = self.seq.wrapping_add(1);
        }
        let _ = last_len;
        self.io
            .write_all(&out)
            .await
            .map_err(|e| TransientError::ConnectionLost(e.to_string()))?;
        self.io
            .flush()
            .await
            .map_err(|e| TransientError::ConnectionLost(e.to_string()))?;
        Ok(())
    }
}

fn parse_greeting(p: &[u8]) -> Result<Greeting, String> {
    let bad = || "malformed server greeting".to_string();
    let mut r = Cursor { b: p, i: 0 };
    let proto = r.u8().ok_or_else(bad)?;
    if proto != 10 {
        return Err(format!("unsupported protocol version {proto} (need 10)"));
    }
    let server_version = String::from_utf8_lossy(r.nul_str().ok_or_else(bad)?).into_owned();
    let connection_id = r.u32().ok_or_else(bad)?;
    let mut auth_data = r.take(8).ok_or_else(bad)?.to_vec();
    r.take(1).ok_or_else(bad)?;
    let mut capabilities = r.u16().ok_or_else(bad)? as u32;
    let mut auth_plugin = String::from("mysql_native_password");
    if r.remaining() > 0 {
        let _charset = r.u8().ok_or_else(bad)?;
        let _status = r.u16().ok_or_else(bad)?;
        capabilities |= (r.u16().ok_or_else(bad)? as u32) << 16;
        let auth_len = r.u8().ok_or_else(bad)? as usize;
        r.take(10).ok_or_else(bad)?;
        if capabilities & caps::SECURE_CONNECTION != 0 {
            let n = auth_len.saturating_sub(8).max(13);
            let part2 = r.take(n.min(r.remaining())).ok_or_else(bad)?;
            // The last byte of part 2 is a NUL terminator.
            let part2 = part2.strip_suffix(&[0]).unwrap_or(part2);
            auth_data.extend_from_slice(part2);
        }
        if capabilities & caps::PLUGIN_AUTH != 0 {
            if let Some(name) = r.nul_str().or_else(|| Some(r.rest())) {
                if !name.is_empty() {
                    auth_plugin = String::from_utf8_lossy(name).into_owned();
                }
            }
        }
    }
    Ok(Greeting {
        server_version,
        connection_id,
        capabilities,
        auth_data,
        auth_plugin,
    })
}

/// An auth switch request: 0xfe, the plugin name NUL-terminated, then the
/// plugin's data. The scramble plugins end their 20-byte scramble with a NUL
/// that is not part of it; ed25519's nonce is 32 raw random bytes, so a last
/// byte of 0 is its own (1 login in 256 failed when it was dropped).
fn parse_auth_switch(p: &[u8]) -> (String, Vec<u8>) {
    let rest = p.get(1..).unwrap_or(&[]);
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
    let mut data = rest.get(end + 1..).unwrap_or(&[]);
    if plugin != "client_ed25519" {
        data = data.strip_suffix(&[0]).unwrap_or(data);
    }
    (plugin, data.to_vec())
}

/// The first authentication answer for `plugin`.
fn auth_response(
    plugin: &str,
    password: &[u8],
    nonce: &[u8],
    tls: bool,
) -> Result<Vec<u8>, SourceError> {
    if password.is_empty() && plugin != "client_ed25519" {
        return Ok(Vec::new());
    }
    Ok(match plugin {
        "mysql_native_password" => mysql_common::scramble::scramble_native(nonce, password)
            .map(|s| s.to_vec())
            .unwrap_or_default(),
        "caching_sha2_password" => mysql_common::scramble::scramble_sha256(nonce, password)
            .map(|s| s.to_vec())
            .unwrap_or_default(),
        "client_ed25519" => {
            mysql_common::scramble::create_response_for_ed25519(password, nonce).to_vec()
        }
        "mysql_clear_password" if tls => {
            let mut v = password.to_vec();
            v.push(0);
            v
        }
        other => {
            return Err(DefiniteError::Config(format!(
                "authentication plugin `{other}` is not supported for the replication \
                 connection (supported: mysql_native_password, caching_sha2_password, \
                 client_ed25519, and mysql_clear_password over TLS)"
            ))
            .into())
        }
    })
}

/// caching_sha2_password full authentication without TLS.
fn rsa_encrypt_password(password: &[u8], nonce: &[u8], pem: &[u8]) -> Result<Vec<u8>, SourceError> {
    let mut clear = password.to_vec();
    clear.push(0);
    if !nonce.is_empty() {
        for (i, b) in clear.iter_mut().enumerate() {
            *b ^= nonce[i % nonce.len()];
        }
    }
    // mysql_common's PEM/DER parsing panics on a malformed key; a server
    // sending one is a protocol error, not a reason to crash.
    let pem = pem.to_vec();
    std::panic::catch_unwind(move || mysql_common::crypto::encrypt(&clear, &pem)).map_err(|_| {
        DefiniteError::Protocol("the server's RSA public key is malformed".into()).into()
    })
}

/// The rustls error inside an I/O error of a TLS handshake (tokio-rustls
/// and mysql_async wrap it), if that is what failed.
pub(crate) fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

fn parse_err(p: &[u8]) -> (u16, String) {
    let code = match p.get(1..3) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]),
        None => 0,
    };
    let mut msg = p.get(3..).unwrap_or(&[]);
    if msg.first() == Some(&b'#') && msg.len() >= 6 {
        msg = &msg[6..];
    }
    (code, String::from_utf8_lossy(msg).into_owned())
}

/// COM_REGISTER_SLAVE payload.
pub fn register_replica_packet(server_id: u32, hostname: &str, user: &str, port: u16) -> Vec<u8> {
    let mut p = vec![command::REGISTER_SLAVE];
    p.extend_from_slice(&server_id.to_le_bytes());
    for s in [hostname, user, ""] {
        let b = &s.as_bytes()[..s.len().min(255)];
        p.push(b.len() as u8);
        p.extend_from_slice(b);
    }
    p.extend_from_slice(&port.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes()); // replication rank
    p.extend_from_slice(&0u32.to_le_bytes()); // master id
    p
}

/// COM_BINLOG_DUMP payload: position, flags, server id, file name.
pub fn binlog_dump_packet(server_id: u32, file: &str, pos: u32, flags: u16) -> Vec<u8> {
    let mut p = vec![command::BINLOG_DUMP];
    p.extend_from_slice(&pos.to_le_bytes());
    p.extend_from_slice(&flags.to_le_bytes());
    p.extend_from_slice(&server_id.to_le_bytes());
    p.extend_from_slice(file.as_bytes());
    p
}

/// COM_BINLOG_DUMP_GTID payload (MySQL 5.6+): flags, server id, file name,
/// position, and the encoded set of GTIDs the replica already has.
pub fn binlog_dump_gtid_packet(
    server_id: u32,
    file: &str,
    pos: u64,
    flags: u16,
    encoded_gtid_set: &[u8],
) -> Vec<u8> {
    let mut p = vec![command::BINLOG_DUMP_GTID];
    p.extend_from_slice(&(flags | dump_flags::THROUGH_GTID).to_le_bytes());
    p.extend_from_slice(&server_id.to_le_bytes());
    p.extend_from_slice(&(file.len() as u32).to_le_bytes());
    p.extend_from_slice(file.as_bytes());
    p.extend_from_slice(&pos.to_le_bytes());
    p.extend_from_slice(&(encoded_gtid_set.len() as u32).to_le_bytes());
    p.extend_from_slice(encoded_gtid_set);
    p
}

fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=250 => out.push(n as u8),
        251..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.i)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = self.b.get(self.i..).unwrap_or(&[]);
        self.i = self.b.len();
        s
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn nul_str(&mut self) -> Option<&'a [u8]> {
        let rest = self.b.get(self.i..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        self.i += end + 1;
        Some(&rest[..end])
    }
}

mod tls {
    use super::*;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, Error as TlsError, SignatureScheme};

    pub fn server_name(host: &str) -> Result<ServerName<'static>, SourceError> {
        ServerName::try_from(host.to_string())
            .map_err(|e| DefiniteError::Tls(format!("bad host name `{host}` for TLS: {e}")).into())
    }

    pub fn client_config(cfg: &SourceConfig) -> Result<rustls::ClientConfig, SourceError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| DefiniteError::Tls(e.to_string()))?;
        let verifier: Arc<dyn ServerCertVerifier> = match cfg.tls {
            TlsMode::Off | TlsMode::Preferred | TlsMode::Required => Arc::new(AcceptAny(provider)),
            TlsMode::VerifyCa | TlsMode::VerifyIdentity => {
                let Some(ca) = &cfg.ca_file else {
                    return Err(
                        DefiniteError::Config("TLS verification needs `ca_file`".into()).into(),
                    );
                };
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(ca).map_err(|e| {
                    DefiniteError::Tls(format!("cannot read CA file {}: {e}", ca.display()))
                })?;
                for cert in certs {
                    let cert = cert.map_err(|e| {
                        DefiniteError::Tls(format!("bad CA file {}: {e}", ca.display()))
                    })?;
                    roots
                        .add(cert)
                        .map_err(|e| DefiniteError::Tls(format!("bad CA certificate: {e}")))?;
                }
                let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| DefiniteError::Tls(e.to_string()))?;
                Arc::new(CaVerifier {
                    inner: webpki,
                    check_name: cfg.tls == TlsMode::VerifyIdentity,
                })
            }
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }

    /// `preferred`/`required`: encrypt, verify nothing (as the MySQL client does).
    #[derive(Debug)]
    struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, TlsError> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify-ca` checks the chain only; `verify-identity` also the name.
    #[derive(Debug)]
    struct CaVerifier {
        inner: Arc<rustls::client::WebPkiServerVerifier>,
        check_name: bool,
    }

    impl ServerCertVerifier for CaVerifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, TlsError> {
            match self
                .inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Err(TlsError::InvalidCertificate(rustls::CertificateError::NotValidForName))
                | Err(TlsError::InvalidCertificate(
                    rustls::CertificateError::NotValidForNameContext { .. },
                )) if !self.check_name => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            self.inner.verify_tls12_signature(message, cert, dss)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            self.inner.verify_tls13_signature(message, cert, dss)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.inner.supported_verify_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_packet_layout() {
        let p = binlog_dump_packet(
            7,
            "mysql-bin.000002",
            1234,
            dump_flags::MARIADB_SEND_ANNOTATE_ROWS,
        );
        assert_eq!(p[0], 0x12);
        assert_eq!(&p[1..5], &1234u32.to_le_bytes());
        assert_eq!(&p[5..7], &[2, 0]);
        assert_eq!(&p[7..11], &7u32.to_le_bytes());
        assert_eq!(&p[11..], b"mysql-bin.000002");
    }

    #[test]
    fn dump_gtid_packet_layout_carries_the_encoded_set() {
        let set: crate::position::MysqlGtidSet =
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5".parse().unwrap();
        let enc = set.encode();
        let p = binlog_dump_gtid_packet(9, "", 4, dump_flags::NON_BLOCK, &enc);
        assert_eq!(p[0], 0x1e);
        assert_eq!(u16::from_le_bytes([p[1], p[2]]), 0x05);
        assert_eq!(&p[3..7], &9u32.to_le_bytes());
        assert_eq!(&p[7..11], &0u32.to_le_bytes());
        assert_eq!(&p[11..19], &4u64.to_le_bytes());
        assert_eq!(&p[19..23], &(enc.len() as u32).to_le_bytes());
        assert_eq!(&p[23..], &enc[..]);
        // 8 (count) + 16 (uuid) + 8 (n intervals) + 16 (one interval)
        assert_eq!(enc.len(), 48);
    }

    #[test]
    fn register_replica_layout() {
        let p = register_replica_packet(5, "h", "repl", 3306);
        assert_eq!(
            p,
            [
                &[0x15, 5, 0, 0, 0, 1, b'h', 4][..],
                b"repl",
                &[0, 0xea, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0]
            ]
            .concat()
        );
    }

    #[test]
    fn greeting_of_mariadb_and_mysql() {
        // A MariaDB 10.11 greeting captured from the test server (nonce changed).
        let mut g = vec![10];
        g.extend_from_slice(b"5.5.5-10.11.6-MariaDB\0");
        g.extend_from_slice(&42u32.to_le_bytes());
        g.extend_from_slice(b"abcdefgh\0");
        g.extend_from_slice(&0xf7feu16.to_le_bytes());
        g.push(45);
        g.extend_from_slice(&2u16.to_le_bytes());
        g.extend_from_slice(&0x81bfu16.to_le_bytes());
        g.push(21);
        g.extend_from_slice(&[0; 10]);
        g.extend_from_slice(b"ijklmnopqrst\0");
        g.extend_from_slice(b"mysql_native_password\0");
        let parsed = parse_greeting(&g).unwrap();
        assert!(parsed.is_mariadb());
        assert_eq!(parsed.connection_id, 42);
        assert_eq!(parsed.auth_data, b"abcdefghijklmnopqrst");
        assert_eq!(parsed.auth_plugin, "mysql_native_password");
        assert!(parsed.capabilities & caps::PLUGIN_AUTH != 0);
        // Truncated greetings are errors, not panics.
        for n in 0..g.len() {
            let _ = parse_greeting(&g[..n]);
        }
    }

    #[test]
    fn ed25519_nonce_ending_in_nul_is_kept_whole() {
        let mut nonce = [7u8; 32];
        nonce[31] = 0;
        let packet = [&[0xfe][..], b"client_ed25519\0", &nonce].concat();
        let (plugin, parsed) = parse_auth_switch(&packet);
        assert_eq!(plugin, "client_ed25519");
        assert_eq!(parsed, nonce);
        // The scramble plugins' terminating NUL is still not part of theirs.
        let packet = [
            &[0xfe][..],
            b"mysql_native_password\0",
            b"01234567890123456789\0",
        ]
        .concat();
        let (plugin, parsed) = parse_auth_switch(&packet);
        assert_eq!(plugin, "mysql_native_password");
        assert_eq!(parsed, b"01234567890123456789");
        // Malformed requests are not panics.
        for n in 0..packet.len() {
            let _ = parse_auth_switch(&packet[..n]);
        }
    }

    #[test]
    fn caching_sha2_scramble_is_32_bytes_and_native_20() {
        let nonce = b"01234567890123456789";
        assert_eq!(
            auth_response("caching_sha2_password", b"pw", nonce, false)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            auth_response("mysql_native_password", b"pw", nonce, false)
                .unwrap()
                .len(),
            20
        );
        assert!(auth_response("mysql_native_password", b"", nonce, false)
            .unwrap()
            .is_empty());
        assert!(auth_response("mysql_clear_password", b"pw", nonce, false).is_err());
        assert!(rsa_encrypt_password(b"pw", nonce, b"not a key").is_err());
    }

    #[test]
    fn err_packet_with_sql_state() {
        let mut p = vec![0xff, 0xd4, 0x04, b'#'];
        p.extend_from_slice(b"HY000Could not find first log file name in binary log index file");
        let (code, msg) = parse_err(&p);
        assert_eq!(code, 1236);
        assert!(msg.starts_with("Could not find"));
    }
}
