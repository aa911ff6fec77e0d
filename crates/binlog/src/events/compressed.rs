//! MariaDB compressed events (log_bin_compress=ON): QUERY_COMPRESSED (165)
//! and WRITE/UPDATE/DELETE_ROWS_COMPRESSED (166–168 v1, 169–171 v2).
//!
//! Only the tail is compressed: the statement text of a QUERY, the row
//! images of a rows event. That tail starts with one header byte
//! (`0x80 | algorithm << 4 | length-of-length`, algorithm 0 = zlib), then
//! the uncompressed length big-endian in 1–4 bytes, then a zlib stream.
//! Decompressing rebuilds the body of the plain event, which is then
//! decoded like any other.

use std::io::Read;

use flate2::read::ZlibDecoder;

use crate::bytes::ByteReader;
use crate::error::BodyError;
use crate::fde::FormatDescription;
use crate::header::event_type as et;

use super::query::QUERY_HEADER_LEN;

/// Refuse to inflate beyond this: no real event is larger.
const MAX_UNCOMPRESSED: usize = 1 << 30;

/// The plain type a compressed type decodes as, if it is one.
pub fn plain_type(compressed: u8) -> Option<u8> {
    Some(match compressed {
        et::MARIA_QUERY_COMPRESSED => et::QUERY,
        et::MARIA_WRITE_ROWS_COMPRESSED_V1 => et::WRITE_ROWS_V1,
        et::MARIA_UPDATE_ROWS_COMPRESSED_V1 => et::UPDATE_ROWS_V1,
        et::MARIA_DELETE_ROWS_COMPRESSED_V1 => et::DELETE_ROWS_V1,
        et::MARIA_WRITE_ROWS_COMPRESSED => et::WRITE_ROWS,
        et::MARIA_UPDATE_ROWS_COMPRESSED => et::UPDATE_ROWS,
        et::MARIA_DELETE_ROWS_COMPRESSED => et::DELETE_ROWS,
        _ => return None,
    })
}

/// Rebuild the body of the plain event of a compressed one into `out`
/// (cleared first). Returns the plain type code.
pub fn decompress_body(
    body: &[u8],
    compressed_type: u8,
    fde: &FormatDescription,
    out: &mut Vec<u8>,
) -> Result<u8, BodyError> {
    let plain = plain_type(compressed_type).ok_or_else(|| {
        BodyError::Invalid(format!(
            "event type {compressed_type} is not a compressed event"
        ))
    })?;
    let prefix_len = if plain == et::QUERY {
        query_prefix_len(body, fde)?
    } else {
        rows_prefix_len(body, compressed_type, plain, fde)?
    };
    out.clear();
    out.extend_from_slice(&body[..prefix_len]);
    inflate(&body[prefix_len..], out)?;
    Ok(plain)
}

/// Post-header, status variables, schema and its NUL.
fn query_prefix_len(body: &[u8], fde: &FormatDescription) -> Result<usize, BodyError> {
    let post_header_len = fde
        .post_header_len(et::MARIA_QUERY_COMPRESSED)
        .map_or(QUERY_HEADER_LEN, |l| l as usize);
    if post_header_len < QUERY_HEADER_LEN {
        return Err(BodyError::Invalid(format!(
            "compressed QUERY post-header length {post_header_len} below {QUERY_HEADER_LEN}"
        )));
    }
    let mut r = ByteReader::new(body);
    let mut ph = ByteReader::new(r.take(post_header_len)?);
    ph.skip(8)?;
    let schema_len = ph.u8()? as usize;
    ph.skip(2)?;
    let status_len = ph.u16()? as usize;
    r.skip(status_len)?;
    r.skip(schema_len + 1)?;
    Ok(r.position())
}

/// Table id, flags, v2 extra data, column count and bitmaps.
fn rows_prefix_len(
    body: &[u8],
    compressed_type: u8,
    plain: u8,
    fde: &FormatDescription,
) -> Result<usize, BodyError> {
    let post_header_len = fde.post_header_len(compressed_type).unwrap_or(8) as usize;
    let mut r = ByteReader::new(body);
    r.skip(8)?; // table id (6) and flags (2)
    if post_header_len == 10 {
        // The length counts its own two bytes.
        let extra = r.u16()? as usize;
        r.skip(extra.saturating_sub(2))?;
    }
    let columns = r.lenenc()?;
    let bitmap = usize::try_from(columns.div_ceil(8))
        .map_err(|_| BodyError::Invalid("column count overflow".into()))?;
    r.skip(bitmap)?;
    if plain == et::UPDATE_ROWS_V1 || plain == et::UPDATE_ROWS {
        r.skip(bitmap)?;
    }
    Ok(r.position())
}

/// Inflate one MariaDB-compressed block, appending to `out`.
pub fn inflate(src: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
    let mut r = ByteReader::new(src);
    let head = r.u8()?;
    if head & 0xe0 != 0x80 {
        return Err(BodyError::Invalid(format!(
            "bad compressed header byte {head:#04x}"
        )));
    }
    let algorithm = (head & 0x70) >> 4;
    if algorithm != 0 {
        return Err(BodyError::Invalid(format!(
            "unknown compression algorithm {algorithm}"
        )));
    }
    let len_len = (head & 0x07) as usize;
    if !(1..=4).contains(&len_len) {
        return Err(BodyError::Invalid(format!(
            "bad compressed length size {len_len}"
        )));
    }
    let len = r
        .take(len_len)?
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    if len == 0 || len > MAX_UNCOMPRESSED {
        return Err(BodyError::Invalid(format!(
            "implausible uncompressed length {len}"
        )));
    }
    let before = out.len();
    // Read at most one byte more than announced, so a lying length is
    // detected without inflating a bomb.
    let mut z = ZlibDecoder::new(r.rest()).take(len as u64 + 1);
    z.read_to_end(out)
        .map_err(|e| BodyError::Invalid(format!("zlib: {e}")))?;
    let got = out.len() - before;
    if got != len {
        return Err(BodyError::Invalid(format!(
            "inflated {got} bytes, the header announced {len}"
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::fde::ChecksumAlg;
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write;

    /// MariaDB's compressed block: header byte, BE length, zlib stream.
    pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
        let len = data.len() as u32;
        let len_bytes = len.to_be_bytes();
        let skip = len_bytes.iter().take_while(|&&b| b == 0).count().min(3);
        let mut out = vec![0x80 | (4 - skip) as u8];
        out.extend_from_slice(&len_bytes[skip..]);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(data).unwrap();
        out.extend_from_slice(&z.finish().unwrap());
        out
    }

    #[test]
    fn inflate_checks_everything() {
        let block = deflate(b"hello hello hello");
        let mut out = vec![];
        inflate(&block, &mut out).unwrap();
        assert_eq!(out, b"hello hello hello");
        // Wrong announced length.
        let mut lying = block.clone();
        lying[1] += 1;
        assert!(inflate(&lying, &mut vec![]).is_err());
        // Not a compressed header.
        assert!(inflate(&[0x01, 5, 1, 2], &mut vec![]).is_err());
        // Corrupt zlib stream.
        let mut bad = block.clone();
        let n = bad.len();
        bad[n - 3] ^= 0xff;
        assert!(inflate(&bad, &mut vec![]).is_err());
        assert!(inflate(&[], &mut vec![]).is_err());
    }

    #[test]
    fn query_and_rows_prefixes() {
        let fde = FormatDescription::default_v4(ChecksumAlg::Off);
        let mut q = vec![0u8; 13];
        q[8] = 2; // schema length
        q[11] = 3; // status vars length
        q.extend_from_slice(&[0x06, 0x00, 0x00]); // empty catalog
        q.extend_from_slice(b"db\0");
        q.extend_from_slice(&deflate(b"INSERT INTO t VALUES (1)"));
        let mut out = vec![];
        assert_eq!(
            decompress_body(&q, et::MARIA_QUERY_COMPRESSED, &fde, &mut out).unwrap(),
            et::QUERY
        );
        assert!(out.ends_with(b"db\0INSERT INTO t VALUES (1)"));

        let mut rows = vec![1, 0, 0, 0, 0, 0, 1, 0, 2, 0xff, 0xff];
        rows.extend_from_slice(&deflate(&[0xfc, 1, 0, 0, 0, 2, 0, 0, 0]));
        let plain =
            decompress_body(&rows, et::MARIA_UPDATE_ROWS_COMPRESSED_V1, &fde, &mut out).unwrap();
        assert_eq!(plain, et::UPDATE_ROWS_V1);
        assert_eq!(&out[..11], &rows[..11]);
        assert_eq!(&out[11..], &[0xfc, 1, 0, 0, 0, 2, 0, 0, 0]);
        assert!(decompress_body(
            &rows[..5],
            et::MARIA_WRITE_ROWS_COMPRESSED_V1,
            &fde,
            &mut out
        )
        .is_err());
    }
}
