//! 照片: photos attached to an appeal, a note or a reply — which files are accepted, and removing
//! the metadata that can say where and when a photo was taken (EXIF with GPS, XMP, IPTC, text
//! chunks) before anyone but staff sees it. The picture itself is copied byte for byte, never
//! re-encoded, so nothing is lost in quality and a bad encoder cannot be fed a hostile image.
//!
//! JPEG keeps its orientation: the EXIF block is replaced by a minimal one holding only the
//! orientation tag, so a phone photo is not shown on its side.
//!
//! Only the image a viewer shows is kept. Phones store more pictures in the same file after its
//! end (previews, gain maps, depth maps, motion-photo videos), each with its own metadata; those,
//! and anything else after the end of the image, are dropped from every kind.

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
    hex::encode(Sha256::digest(bytes))
}

fn be16(b: &[u8], at: usize) -> Result<usize, PhotoError> {
    b.get(at..at.saturating_add(2))
        .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        .ok_or(PhotoError::Damaged)
}

/// JPEG: copies the primary image segment by segment through all of its scans and stops at its
/// end-of-image marker.
///
/// Everything after that marker is dropped: phones append further whole JPEGs there (MPF
/// previews, HDR gain maps, depth maps), Samsung trailers and motion-photo videos, each with
/// its own EXIF and GPS, so copying "the rest of the file" would serve the location again.
///
/// Segments are kept by an allow-list of APPn (see [`keeps_jpeg_segment`]) before, between and
/// after scans alike, because progressive files may carry metadata between their scans.
///
/// A file whose last scan runs into the end of the file without an end-of-image marker is
/// refused as [`PhotoError::Damaged`] rather than accepted truncated: a cut upload is better
/// sent again than served half drawn, and a strict reading leaves no guess about where the
/// picture stops.
fn clean_jpeg(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..2).ok_or(PhotoError::Damaged)?);
    let mut at = 2;
    let mut orientation = None;
    let mut scanned = false;
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
            0xD9 if scanned => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // An image without a scan, a second start of image before this one ended, or a
            // stuffed zero where a marker must be: none of them is a picture we can bound.
            0xD9 | 0xD8 | 0x00 => return Err(PhotoError::Damaged),
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                at += 2;
            }
            _ => {
                let len = be16(b, at + 2)?;
                let end = at + 2 + len;
                let segment = b
                    .get(at..end)
                    .filter(|_| len >= 2)
                    .ok_or(PhotoError::Damaged)?;
                let body = segment.get(4..).unwrap_or_default();
                if marker == 0xDA {
                    // Only the EXIF before the first scan is where viewers read orientation.
                    if !scanned {
                        if let Some(o) = orientation {
                            insert_orientation(&mut out, o);
                        }
                    }
                    scanned = true;
                    let data_end = entropy_end(b, end).ok_or(PhotoError::Damaged)?;
                    out.extend_from_slice(b.get(at..data_end).ok_or(PhotoError::Damaged)?);
                    at = data_end;
                    continue;
                }
                if keeps_jpeg_segment(marker, body) {
                    out.extend_from_slice(segment);
                } else if !scanned && marker == 0xE1 && body.starts_with(b"Exif\0\0") {
                    orientation = orientation.or_else(|| exif_orientation(body.get(6..)?));
                }
                at = end;
            }
        }
    }
}

/// Whether a JPEG segment (other than a scan) is copied: an allow-list of what decoding needs.
/// Frame headers, Huffman and arithmetic tables (0xC0–0xCF but the reserved 0xC8), quantisation
/// tables, line counts, restart intervals and the hierarchical markers (0xDB–0xDF) stay. APPn
/// segments are application data no decoder needs except for colour, and several carry the
/// place and time (EXIF and XMP in APP1, MPF in APP2 pointing at the dropped trailing images,
/// IPTC in APP13, C2PA manifests with EXIF assertions in APP11), so only the colour ones stay:
/// JFIF, ICC profiles and Adobe's colour transform. Comments, extensions and reserved markers
/// go: whatever they hold, nothing needs it.
fn keeps_jpeg_segment(marker: u8, body: &[u8]) -> bool {
    match marker {
        0xE0 => body.starts_with(b"JFIF\0"),
        0xE2 => body.starts_with(b"ICC_PROFILE\0"),
        0xEE => body.starts_with(b"Adobe"),
        0xC8 => false,
        0xC0..=0xCF | 0xDB..=0xDF => true,
        _ => false,
    }
}

/// Where entropy-coded data starting at `from` ends: at the 0xFF of the next marker. A 0xFF
/// followed by 0x00 is a stuffed data byte and 0xFFD0–0xFFD7 are restart markers inside the
/// data; a 0xFF followed by 0xFF is fill, and stays with the data so it is copied as it was.
/// `None` if the file ends first.
fn entropy_end(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let ff = at + b.get(at..)?.iter().position(|&x| x == 0xFF)?;
        match *b.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 => at = ff + 2,
            0xFF => at = ff + 1,
            _ => return Some(ff),
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
        let s = tiff.get(at..at.checked_add(2)?)?;
        Some(if little {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let s = tiff.get(at..at.checked_add(4)?)?;
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
        // The offset comes from the file; on 32-bit targets it can reach the top of usize.
        let entry = ifd.checked_add(2 + i * 12)?;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry.checked_add(8)?))
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

/// PNG: copies every chunk but eXIf and the text chunks (tEXt, zTXt, iTXt, which carry XMP) up to
/// and with IEND. Whatever follows IEND is dropped: decoders ignore it, so it can only be
/// something else hidden there, such as a whole JPEG with its EXIF. A file without IEND is
/// damaged.
fn clean_png(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..8).ok_or(PhotoError::Damaged)?);
    let mut at = 8;
    while at < b.len() {
        let len = b
            .get(at..at + 4)
            .and_then(|s| usize::try_from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])).ok())
            .ok_or(PhotoError::Damaged)?;
        let end = at
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= b.len())
            .ok_or(PhotoError::Damaged)?;
        let kind = b.get(at + 4..at + 8).ok_or(PhotoError::Damaged)?;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(b.get(at..end).ok_or(PhotoError::Damaged)?);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(PhotoError::Damaged)
}

/// WebP: copies every RIFF chunk but EXIF and XMP, clears their flags in the VP8X header and
/// sets the RIFF size again. Only the bytes the RIFF size covers are read: anything after the
/// RIFF chunk is not part of the image for any decoder, so it is dropped rather than passed on.
fn clean_webp(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let total = b
        .get(4..8)
        .and_then(|s| usize::try_from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok())
        .and_then(|declared| declared.checked_add(8))
        .filter(|t| *t <= b.len())
        .ok_or(PhotoError::Damaged)?;
    let riff = b.get(..total).ok_or(PhotoError::Damaged)?;
    let mut at = 12;
    while at + 8 <= total {
        let head = riff.get(at..at + 8).ok_or(PhotoError::Damaged)?;
        let kind = head.get(..4).ok_or(PhotoError::Damaged)?;
        let len = usize::try_from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]))
            .map_err(|_| PhotoError::Damaged)?;
        // Chunks are padded to an even length.
        let end = len
            .checked_add(len & 1)
            .and_then(|l| l.checked_add(at + 8))
            .filter(|e| *e <= total)
            .ok_or(PhotoError::Damaged)?;
        let chunk = riff.get(at..end).ok_or(PhotoError::Damaged)?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(chunk);
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !0b0000_1100;
                }
            }
            _ => out.extend_from_slice(chunk),
        }
        at = end;
    }
    if at != total {
        return Err(PhotoError::Damaged);
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| PhotoError::Damaged)?;
    if let Some(field) = out.get_mut(4..8) {
        field.copy_from_slice(&size.to_le_bytes());
    }
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

    /// One quantisation table, an 8×8 one-component frame of the given kind (SOF0 baseline, SOF2
    /// progressive) and one Huffman table: what a decoder needs before a scan.
    fn tables_and_frame(sof: u8) -> Vec<u8> {
        let mut t = segment(0xDB, &[0; 65]);
        t.extend(segment(sof, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]));
        t.extend(segment(0xC4, &huffman_table(0x00)));
        t
    }

    fn huffman_table(class_and_id: u8) -> Vec<u8> {
        let mut h = vec![class_and_id, 1];
        h.extend_from_slice(&[0; 15]);
        h.push(0x00);
        h
    }

    fn xmp(secret: &[u8]) -> Vec<u8> {
        let mut x = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
        x.extend_from_slice(secret);
        x.extend_from_slice(b"</x:xmpmeta>");
        x
    }

    fn exif_with_secret(orientation: u16, secret: &[u8]) -> Vec<u8> {
        let mut e = exif_with(orientation);
        e.extend_from_slice(secret);
        e
    }

    /// The start of an MP Index IFD, as phones put it in APP2 to point at the images appended
    /// after the first one's end.
    const MPF: &[u8] = b"MPF\0MM\0\x2a\0\0\0\x08\0\x03\xb0\x00\0\x07\0\0\0\x04";

    /// Entropy-coded data with a stuffed 0xFF (0xFF00) and a restart marker (0xFFD0).
    const SCAN: &[u8] = &[
        0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF, 0x00, 0x9A,
    ];

    fn scan_segment() -> Vec<u8> {
        let mut s = segment(0xDA, &[1, 1, 0, 0, 63, 0]);
        s.extend_from_slice(SCAN);
        s
    }

    fn icc() -> Vec<u8> {
        segment(0xE2, b"ICC_PROFILE\0\x01\x01 a colour profile")
    }

    /// The first image of a phone photo with MPF: orientation and GPS in EXIF, XMP, an ICC
    /// profile and the MPF index, then a baseline frame and its scan.
    fn primary(orientation: u16) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        j.extend(segment(
            0xE1,
            &exif_with_secret(orientation, b"SECRET-GPS-1"),
        ));
        j.extend(segment(0xE1, &xmp(b"SECRET-XMP-1")));
        j.extend(icc());
        j.extend(segment(0xE2, MPF));
        j.extend(tables_and_frame(0xC0));
        j.extend(scan_segment());
        j.extend_from_slice(&[0xFF, 0xD9]);
        j
    }

    /// [`primary`] followed by a second complete JPEG (the MPF preview or gain map) with its
    /// own EXIF and XMP, and a vendor trailer.
    fn multi_image(orientation: u16) -> Vec<u8> {
        let mut j = primary(orientation);
        j.extend_from_slice(&[0xFF, 0xD8]);
        j.extend(segment(0xE1, &exif_with_secret(1, b"SECRET-GPS-2")));
        j.extend(segment(0xE1, &xmp(b"SECRET-XMP-2")));
        j.extend(tables_and_frame(0xC0));
        j.extend(scan_segment());
        j.extend_from_slice(&[0xFF, 0xD9]);
        j.extend_from_slice(b"SEFHSECRET-TRAILER\0\0SEFT");
        j
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn jpeg_keeps_only_the_primary_image_and_none_of_the_metadata_of_any_embedded_one() {
        let original = multi_image(6);
        assert!(contains(&original, b"SECRET-GPS-2") && contains(&original, b"MPF\0"));
        let clean = clean(&original, 1 << 20).expect("clean");
        assert_eq!(clean.kind, PhotoKind::Jpeg);
        assert!(!contains(&clean.bytes, b"SECRET"), "{:?}", clean.bytes);
        assert!(!contains(&clean.bytes, b"GPS"));
        assert!(!contains(&clean.bytes, b"MPF\0"));
        assert_eq!(
            count(&clean.bytes, b"Exif\0\0"),
            1,
            "only the orientation block"
        );
        assert_eq!(count(&clean.bytes, &[0xFF, 0xD8]), 1, "one image");
        let at = 2 + 2 + 16;
        assert_eq!(&clean.bytes[at..at + 2], &[0xFF, 0xE1]);
        assert_eq!(exif_orientation(&clean.bytes[at + 10..]), Some(6));
        // The scan survives byte for byte and the file ends with its end of image.
        let mut tail = scan_segment();
        tail.extend_from_slice(&[0xFF, 0xD9]);
        assert!(clean.bytes.ends_with(&tail));
        // Exactly the primary image without its metadata and with the orientation block.
        let mut expected = vec![0xFF, 0xD8];
        expected.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        expected.extend(icc());
        expected.extend(tables_and_frame(0xC0));
        expected.extend(tail);
        insert_orientation(&mut expected, 6);
        assert_eq!(clean.bytes, expected);
        assert_eq!(clean_jpeg(&clean.bytes).expect("again"), clean.bytes);
        // Upright, no EXIF is left at all.
        let upright = super::clean(&multi_image(1), 1 << 20).expect("clean");
        assert!(!contains(&upright.bytes, b"Exif"));
        assert!(!contains(&upright.bytes, b"SECRET"));
    }

    #[test]
    fn progressive_jpeg_loses_metadata_between_its_scans() {
        let head = {
            let mut h = vec![0xFF, 0xD8];
            h.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
            h.extend(tables_and_frame(0xC2));
            h
        };
        // DC first, then the AC coefficients with their own Huffman table.
        let mut first = segment(0xDA, &[1, 1, 0, 0, 0, 0]);
        first.extend_from_slice(&[0x11, 0xFF, 0x00, 0x22]);
        let between = segment(0xC4, &huffman_table(0x10));
        let mut second = segment(0xDA, &[1, 1, 0x10, 1, 63, 0]);
        // A restart marker, and fill bytes before the end of image.
        second.extend_from_slice(&[0x33, 0xFF, 0xD1, 0x44, 0xFF, 0xFF]);

        let mut p = head.clone();
        p.extend_from_slice(&first);
        p.extend(segment(0xE1, &exif_with_secret(6, b"SECRET-GPS-3")));
        p.extend_from_slice(&between);
        p.extend(segment(0xE1, &xmp(b"SECRET-XMP-3")));
        p.extend(segment(0xED, b"Photoshop 3.0\0SECRET-IPTC"));
        p.extend(segment(0xFE, b"SECRET-COMMENT"));
        p.extend(segment(0xE2, MPF));
        p.extend(segment(0xEB, b"JP\0\0SECRET-C2PA"));
        p.extend_from_slice(&second);
        p.extend_from_slice(&[0xFF, 0xD9]);
        let clean = clean(&p, 1 << 20).expect("clean");
        assert!(!contains(&clean.bytes, b"SECRET"), "{:?}", clean.bytes);
        assert!(!contains(&clean.bytes, b"MPF\0"));
        // EXIF found only after the first scan is not where viewers read orientation.
        assert!(!contains(&clean.bytes, b"Exif"));
        let mut expected = head;
        expected.extend(first);
        expected.extend(between);
        expected.extend(second);
        expected.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(clean.bytes, expected);
    }

    #[test]
    fn jpeg_without_end_of_image_is_damaged() {
        let whole = primary(6);
        let cut = &whole[..whole.len() - 2];
        assert_eq!(clean(cut, 1 << 20), Err(PhotoError::Damaged));
        // A scan running into a lone 0xFF at the end.
        let mut lone = cut.to_vec();
        lone.push(0xFF);
        assert_eq!(clean(&lone, 1 << 20), Err(PhotoError::Damaged));
        // A second image starting before the first one ended.
        let mut nested = cut.to_vec();
        nested.extend_from_slice(&multi_image(1));
        assert_eq!(clean(&nested, 1 << 20), Err(PhotoError::Damaged));
    }

    #[test]
    fn png_and_webp_lose_whatever_follows_their_end() {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        p.extend(png_chunk(b"IHDR", &[0; 13]));
        p.extend(png_chunk(b"IDAT", b"pixels"));
        p.extend(png_chunk(b"IEND", b""));
        let mut trailed = p.clone();
        trailed.extend(multi_image(6));
        let clean_png = clean(&trailed, 1 << 20).expect("png");
        assert_eq!(clean_png.bytes, p);

        let mut body = b"WEBP".to_vec();
        body.extend(riff_chunk(b"VP8 ", b"frame"));
        let mut w = b"RIFF".to_vec();
        w.extend_from_slice(&u32::try_from(body.len()).expect("len").to_le_bytes());
        w.extend(body);
        let mut trailed = w.clone();
        trailed.extend(riff_chunk(b"EXIF", b"II SECRET-GPS"));
        trailed.extend(multi_image(6));
        let clean_webp = clean(&trailed, 1 << 20).expect("webp");
        assert_eq!(clean_webp.bytes, w);
    }

    /// Every cut and many one-byte changes of the test files: cleaning never panics, and what it
    /// accepts is already clean.
    #[test]
    fn cut_or_altered_files_never_panic_and_clean_once_for_all() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(png_chunk(b"eXIf", b"MM GPS"));
        png.extend(png_chunk(b"IEND", b""));
        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        webp.extend(riff_chunk(
            b"VP8X",
            &[0b0000_1100, 0, 0, 0, 9, 0, 0, 9, 0, 0],
        ));
        webp.extend(riff_chunk(b"EXIF", b"II GPS"));
        webp.extend(riff_chunk(b"VP8 ", b"frame"));
        let size = u32::try_from(webp.len() - 8).expect("len");
        webp[4..8].copy_from_slice(&size.to_le_bytes());
        for file in [multi_image(6), jpeg(3), png, webp] {
            let mut variants = Vec::new();
            for n in 0..=file.len() {
                variants.push(file[..n].to_vec());
            }
            for i in 0..file.len() {
                for v in [0x00, 0x01, 0xFF, 0xD8, 0xD9, 0xDA, 0xE1, 0x80] {
                    let mut changed = file.clone();
                    changed[i] = v;
                    variants.push(changed);
                }
            }
            for v in variants {
                if let Ok(c) = clean(&v, 1 << 20) {
                    assert_eq!(clean(&c.bytes, 1 << 20), Ok(c.clone()), "{v:?}");
                    if c.kind == PhotoKind::Jpeg {
                        assert!(c.bytes.ends_with(&[0xFF, 0xD9]));
                    }
                }
            }
        }
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
