//! Uploads as an attacker sends them: images that carry a location, archives that would exhaust memory.

use super::*;
use crate::on_each_backend;

on_each_backend!(
    photos_and_notice_images_lose_the_location_of_every_embedded_image,
    roster_uploads_cannot_exhaust_memory,
);

async fn photos_and_notice_images_lose_the_location_of_every_embedded_image(app: TestApp) {
    let upload = multi_image_jpeg();
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    let res = resident
        .post(app.url("/appeals/new"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("category", "other")
                .text("description", "见照片")
                .part(
                    "photo",
                    reqwest::multipart::Part::bytes(upload.clone())
                        .file_name("IMG_0002.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let case = res.headers()["location"].to_str().unwrap().to_owned();
    let html = resident
        .get(app.url(&case))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("<img src=\"").unwrap() + 10;
    let path = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let served = reqwest::get(app.url(&path))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    for secret in [&b"36.6512N"[..], b"MPF\0", b"xmpmeta", b"Exif"] {
        assert!(
            !contains(&served, secret),
            "served photo holds {:?}",
            String::from_utf8_lossy(secret)
        );
    }
    assert!(served.ends_with(&[0xFF, 0xD9]));
    assert_eq!(
        served.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(),
        1,
        "one image, the embedded one is gone"
    );
    // Kept once: the store holds the upload, and the size the page reports is the upload's.
    let token = path.trim_start_matches("/photos/");
    let (photo, stored) = app.store.photo(token).await.unwrap().unwrap();
    assert_eq!(stored, upload);
    assert_eq!(photo.size, i64::try_from(upload.len()).unwrap());

    // A notice's image attachment is cleaned the same way.
    let (notice, _, _) = app.sample_disclosure().await;
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url(&format!("/notices/{notice}/attachments")))
        .multipart(reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::bytes(upload.clone()).file_name("现场.jpg"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = staff
        .get(app.url(&format!("/notices/{notice}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = format!("/notices/{notice}/files/");
    let start = html.find(&marker).unwrap();
    let path = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let served = staff
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!served.is_empty());
    for secret in [&b"36.6512N"[..], b"MPF\0", b"xmpmeta"] {
        assert!(
            !contains(&served, secret),
            "notice image holds {:?}",
            String::from_utf8_lossy(secret)
        );
    }
}

async fn roster_uploads_cannot_exhaust_memory(app: TestApp) {
    let admin = app.sign_in_as(Role::Admin).await;
    let upload = |bytes: Vec<u8>| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let csrf = app.csrf(&admin).await;
            let res = admin
                .post(app.url("/admin/import"))
                .multipart(reqwest::multipart::Form::new().text("csrf", csrf).part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("roster.xlsx"),
                ))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    let households = app.store.roster().await.unwrap().len();
    // A part that unpacks to 300 MB from a few hundred kilobytes.
    let bomb = zip_of(&[("xl/sharedStrings.xml", &vec![b' '; 300 * 1024 * 1024])]);
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
    let (status, html) = upload(bomb).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("超出导入上限"), "{html}");
    // A sheet of two cells whose range spans the whole grid (17 billion cells if allocated).
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>户号</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#;
    let (status, html) = upload(workbook(sheet)).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("超出导入上限"), "{html}");
    assert_eq!(
        app.store.roster().await.unwrap().len(),
        households,
        "nothing imported"
    );
    // An ordinary small workbook is still read (and refused for its content, row by row).
    let sheet = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>户号</t></is></c></row></sheetData></worksheet>"#;
    let (status, html) = upload(workbook(sheet)).await;
    assert_eq!(status, 422);
    assert!(html.contains("缺少此列"), "{html}");
}

/// The smallest workbook calamine reads, with the given sheet XML.
fn workbook(sheet: &str) -> Vec<u8> {
    zip_of(&[
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ])
}
