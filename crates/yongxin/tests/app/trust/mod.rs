//! Trust hardening, tried as an attacker would, one module per way in: sessions and forms,
//! anonymous visitors, uploads, scope (a cadre beyond their part, a resident reaching for a
//! neighbour), API clients, resettlement. Each test fails on the code before its fix; the
//! helpers here are those more than one module uses.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use yongxin_domain::Actor;
use yongxin_domain::Role;
use yongxin_store::{AppealId, HouseholdId};

use crate::support::{post_form, TestApp};

mod anonymous;
mod api;
mod resettlement;
mod scope;
mod sessions;
mod uploads;

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A phone's JPEG: the primary image with EXIF GPS and an MPF index, then a second, embedded
/// image (a preview or gain map) carrying its own EXIF GPS and XMP.
fn multi_image_jpeg() -> Vec<u8> {
    let image = |secret: &[u8]| {
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut exif = b"Exif\0\0II\x2a\0\x08\0\0\0\0\0GPS ".to_vec();
        exif.extend_from_slice(secret);
        j.extend(segment(0xE1, &exif));
        j.extend(segment(0xE2, b"MPF\0II\x2a\0offsets-of-the-next-image"));
        let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
        xmp.extend_from_slice(secret);
        j.extend(segment(0xE1, &xmp));
        j.extend(segment(0xDB, &[0; 65]));
        j.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        j
    };
    let mut file = image(b"36.6512N-PRIMARY");
    file.extend(image(b"36.6512N-EMBEDDED"));
    file
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A case filed by phone in a village, at an address, now.
async fn case_in(app: &TestApp, village: i64, title: &str, address: &str) -> yongxin_store::Appeal {
    let now = Utc::now();
    let mut a = crate::support::phoned_appeal(
        "roads",
        title,
        now,
        now + Duration::days(1),
        now + Duration::days(5),
    );
    a.village_id = Some(village);
    a.address = address.into();
    app.store
        .create_appeal(&Actor::user("staff"), a)
        .await
        .unwrap()
}

async fn villages_of(app: &TestApp) -> (i64, i64) {
    let (own, other) = app.household_ids().await;
    (
        app.store.household(own).await.unwrap().summary.village_id,
        app.store.household(other).await.unwrap().summary.village_id,
    )
}

/// A zip archive of the given parts, deflated.
fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in parts {
        z.start_file(*name, options).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}
