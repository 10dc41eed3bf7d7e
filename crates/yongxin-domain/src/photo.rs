//! 照片: photos attached to an appeal, a note or a reply — which files are accepted, and removing
//! the metadata that can say where and when a photo was taken (EXIF with GPS, XMP, IPTC, text
//! chunks) before anyone but staff sees it. The picture itself is copied byte for byte, never
//! re-encoded, so nothing is lost in quality and a bad encoder cannot be fed a hostile image.
//!
//! JPEG keeps its orientation: the EXIF block is replaced by a minimal one holding only the
//! orientation tag, so a phone photo is not shown on its side.

use thiserror::Error;

/// How many photos an appeal, a note or a reply may carry.
pub const MAX_PHOTOS: usize = 3;

/// The accepted kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
}

impl PhotoKind {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            PhotoKind::Jpeg => "image/jpeg",
            PhotoKind::Png => "image/png",
            PhotoKind::Webp => "image/webp",
        }
    }

    /// The kind of a media type this module produced.
    pub fn from_content_type(t: &str) -> Option<Self> {
        [PhotoKind::Jpeg, PhotoKind::Png, PhotoKind::Webp]
            .into_iter()
            .find(|k| k.content_type() == t)
    }

    /// What the bytes are, by their signature (the name or declared type is not trusted).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(PhotoKind::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(PhotoKind::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(PhotoKind::Webp)
        } else {
            None
        }
    }
}

/// Why a photo is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhotoError {
    /// Not a JPEG, PNG or WebP file.
    #[error("not a JPEG, PNG or WebP image")]
    UnknownKind,
    /// The file ends or is laid out where its format does not allow.
    #[error("the image file is damaged")]
    Damaged,
    /// Larger than allowed.
    #[error("the photo is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
    /// More than [`MAX_PHOTOS`].
    #[error("at most {MAX_PHOTOS} photos")]
    TooMany,
}

/// A photo as accepted: its kind and the bytes without location metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanPhoto {
    /// Kind.
    pub kind: PhotoKind,
    /// The image without EXIF, XMP, IPTC or text metadata.
    pub bytes: Vec<u8>,
}

/// Checks a photo's size and kind and removes its metadata.
pub fn clean(bytes: &[u8], max_bytes: usize) -> Result<CleanPhoto, PhotoError> {
    if bytes.len() > max_bytes {
        return Err(PhotoError::TooLarge { max_bytes });
    }
    let kind = PhotoKind::sniff(bytes).ok_or(PhotoError::UnknownKind)?;
    let bytes = match kind {
        PhotoKind::Jpeg => clean_jpeg(bytes)?,
        PhotoKind::Png => clean_png(bytes)?,
        PhotoKind::Webp => clean_webp(bytes)?,
    };
    Ok(CleanPhoto { kind, bytes })
}

/// The SHA-256 of a file, hex: what the audit record keeps of a photo.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn be16(b: &[u8], at: usize) -> Result<usize, PhotoError> {
    b.get(at..at + 2)
        .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        .ok_or(PhotoError::Damaged)
}

/// JPEG: copies every segment but APP1 (EXIF, XMP), APP13 (IPTC) and comments, up to the start
/// of the scan, then the compressed data unchanged.
fn clean_jpeg(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut at = 2;
    let mut orientation = None;
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if b.get(at) != Some(&0xFF) {
            return Err(PhotoError::Damaged);
        }
        let marker = *b.get(at + 1).ok_or(PhotoError::Damaged)?;
        match marker {
            // Start of scan: the rest is image data (and the end marker).
            0xDA => {
                if let Some(o) = orientation {
                    insert_orientation(&mut out, o);
                }
                out.extend_from_slice(&b[at..]);
                return Ok(out);
            }
            0xD9 => return Err(PhotoError::Damaged),
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[at..at + 2]);
                at += 2;
            }
            _ => {
                let len = be16(b, at + 2)?;
                let end = at + 2 + len;
                if len < 2 || end > b.len() {
                    return Err(PhotoError::Damaged);
                }
                let body = &b[at + 4..end];
                match marker {
                    0xE1 => {
                        if body.starts_with(b"Exif\0\0") {
                            orientation = orientation.or_else(|| exif_orientation(&body[6..]));
                        }
                    }
                    0xED | 0xFE => {}
                    _ => out.extend_from_slice(&b[at..end]),
                }
                at = end;
            }
        }
    }
}

/// The orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block, if it is 2–8.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let s = tiff.get(at..at + 2)?;
        Some(if little {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let s = tiff.get(at..at + 4)?;
        let v = if little {
            u32::from_le_bytes([s[0], s[1], s[2], s[3]])
        } else {
            u32::from_be_bytes([s[0], s[1], s[2], s[3]])
        };
        usize::try_from(v).ok()
    };
    let ifd = u32_at(4)?;
    let count = usize::from(u16_at(ifd)?);
    (0..count.min(512)).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (2..=8).contains(o))
    })
}

/// Puts a minimal EXIF block with only the orientation after the JFIF header (or first).
fn insert_orientation(out: &mut Vec<u8>, orientation: u16) {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD0 at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // padding of the value field
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut segment = vec![0xFF, 0xE1];
    let len = u16::try_from(2 + 6 + tiff.len()).unwrap_or(u16::MAX);
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    // After SOI and an APP0 (JFIF) segment if there is one.
    let mut at = 2;
    if out.get(2..4) == Some(&[0xFF, 0xE0]) {
        if let Ok(len) = be16(out, 4) {
            at = 4 + len;
        }
    }
    let at = at.min(out.len());
    out.splice(at..at, segment);
}

/// PNG: copies every chunk but eXIf and the text chunks (tEXt, zTXt, iTXt, which carry XMP).
fn clean_png(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..8]);
    let mut at = 8;
    while at < b.len() {
        let len = b
            .get(at..at + 4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
            .ok_or(PhotoError::Damaged)?;
        let end = at
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= b.len())
            .ok_or(PhotoError::Damaged)?;
        let kind = &b[at + 4..at + 8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&b[at..end]);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(PhotoError::Damaged)
}

/// WebP: copies every RIFF chunk but EXIF and XMP, clears their flags in the VP8X header and
/// sets the RIFF size again.
fn clean_webp(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let declared = b
        .get(4..8)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or(PhotoError::Damaged)?;
    let total = declared
        .checked_add(8)
        .filter(|t| *t <= b.len())
        .ok_or(PhotoError::Damaged)?;
    let mut at = 12;
    while at + 8 <= total {
        let kind = &b[at..at + 4];
        let len = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
        // Chunks are padded to an even length.
        let end = at
            .checked_add(8 + len + (len & 1))
            .filter(|e| *e <= total)
            .ok_or(PhotoError::Damaged)?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(&b[at..end]);
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !0b0000_1100;
                }
            }
            _ => out.extend_from_slice(&b[at..end]),
        }
        at = end;
    }
    if at != total {
        return Err(PhotoError::Damaged);
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| PhotoError::Damaged)?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TIFF block with GPS latitude text and an orientation, as a phone writes it (little
    /// endian).
    fn exif_with(orientation: u16) -> Vec<u8> {
        let mut t = b"Exif\0\0II\x2a\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&0x0112u16.to_le_bytes());
        t.extend_from_slice(&3u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&orientation.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&0x8825u16.to_le_bytes()); // GPS IFD pointer
        t.extend_from_slice(&4u16.to_le_bytes());
        t.extend_from_slice(&1u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(b"GPS 36.6512N 117.1201E");
        t
    }

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).expect("len").to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    fn jpeg(orientation: u16) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        j.extend(segment(0xE1, &exif_with(orientation)));
        j.extend(segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPS 36.65</x:xmpmeta>",
        ));
        j.extend(segment(0xED, b"Photoshop 3.0\0IPTC GPS"));
        j.extend(segment(0xFE, b"taken at GPS 36.65"));
        j.extend(segment(0xDB, &[0; 65]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
        j
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn jpeg_loses_gps_xmp_iptc_and_comments_but_keeps_orientation_and_pixels() {
        let original = jpeg(6);
        let clean = clean(&original, 1 << 20).expect("clean");
        assert_eq!(clean.kind, PhotoKind::Jpeg);
        assert!(contains(&original, b"GPS"));
        assert!(!contains(&clean.bytes, b"GPS"), "{:?}", clean.bytes);
        assert!(!contains(&clean.bytes, b"xmpmeta"));
        assert!(contains(&clean.bytes, b"JFIF"));
        assert!(clean
            .bytes
            .ends_with(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]));
        // The new EXIF block holds the orientation, right after JFIF, and reads back.
        let at = 2 + 2 + 16;
        assert_eq!(&clean.bytes[at..at + 2], &[0xFF, 0xE1]);
        assert_eq!(exif_orientation(&clean.bytes[at + 10..]), Some(6));
        // Cleaning twice changes nothing more.
        assert_eq!(clean_jpeg(&clean.bytes).expect("again"), clean.bytes);
    }

    #[test]
    fn an_upright_jpeg_gets_no_exif_at_all() {
        let clean = clean(&jpeg(1), 1 << 20).expect("clean");
        assert!(!contains(&clean.bytes, b"Exif"));
    }

    fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len())
            .expect("len")
            .to_be_bytes()
            .to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]); // CRC, copied as is
        c
    }

    #[test]
    fn png_loses_exif_and_text_chunks() {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        p.extend(png_chunk(b"IHDR", &[0; 13]));
        p.extend(png_chunk(b"eXIf", b"MM GPS 36.65"));
        p.extend(png_chunk(b"iTXt", b"XML:com.adobe.xmp GPS"));
        p.extend(png_chunk(b"tEXt", b"Comment GPS"));
        p.extend(png_chunk(b"IDAT", b"pixels"));
        p.extend(png_chunk(b"IEND", b""));
        let clean = clean(&p, 1 << 20).expect("clean");
        assert_eq!(clean.kind, PhotoKind::Png);
        assert!(!contains(&clean.bytes, b"GPS"));
        assert!(contains(&clean.bytes, b"IHDR") && contains(&clean.bytes, b"pixels"));
        assert!(clean.bytes.ends_with(&png_chunk(b"IEND", b"")));
        let mut cut = p.clone();
        cut.truncate(40);
        assert_eq!(super::clean(&cut, 1 << 20), Err(PhotoError::Damaged));
    }

    fn riff_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).expect("len").to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    #[test]
    fn webp_loses_exif_and_xmp_and_their_flags() {
        let mut body = b"WEBP".to_vec();
        body.extend(riff_chunk(
            b"VP8X",
            &[0b0000_1100, 0, 0, 0, 9, 0, 0, 9, 0, 0],
        ));
        body.extend(riff_chunk(b"VP8 ", b"frame"));
        body.extend(riff_chunk(b"EXIF", b"II GPS 36.65"));
        body.extend(riff_chunk(b"XMP ", b"<x>GPS</x>"));
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&u32::try_from(body.len()).expect("len").to_le_bytes());
        w.extend(body);
        let clean = clean(&w, 1 << 20).expect("clean");
        assert_eq!(clean.kind, PhotoKind::Webp);
        assert!(!contains(&clean.bytes, b"GPS"));
        assert!(contains(&clean.bytes, b"frame"));
        assert_eq!(clean.bytes[20], 0, "EXIF and XMP flags cleared");
        let size = u32::from_le_bytes([
            clean.bytes[4],
            clean.bytes[5],
            clean.bytes[6],
            clean.bytes[7],
        ]);
        assert_eq!(size as usize, clean.bytes.len() - 8);
    }

    #[test]
    fn other_files_and_large_ones_are_refused() {
        assert_eq!(clean(b"GIF89a....", 100), Err(PhotoError::UnknownKind));
        assert_eq!(clean(b"%PDF-1.7", 100), Err(PhotoError::UnknownKind));
        assert_eq!(
            clean(&jpeg(1), 10),
            Err(PhotoError::TooLarge { max_bytes: 10 })
        );
        assert_eq!(
            clean(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00], 100),
            Err(PhotoError::Damaged)
        );
        assert_eq!(
            PhotoKind::from_content_type("image/webp"),
            Some(PhotoKind::Webp)
        );
    }
}
