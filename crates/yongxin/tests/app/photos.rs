//! Photos of appeals, notes and replies: uploaded on the web form and through the API, served
//! without location metadata, the original only to staff (and recorded), limits refused
//! cleanly, and Open311's `media_url`.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use yongxin_domain::Actor;
use yongxin_domain::Role;

use crate::on_each_backend;
use crate::support::{json, page, TestApp};

on_each_backend!(
    a_resident_attaches_photos_that_lose_their_location,
    the_api_takes_photos_on_appeals_notes_and_replies_within_limits,
);

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG as a phone writes it: JFIF, EXIF with a GPS position, then the image data.
pub(crate) fn phone_jpeg(padding: usize) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(
        0xE1,
        b"Exif\0\0II\x2a\0\x08\0\0\0\0\0GPSLatitude 36.6512N GPSLongitude 117.1201E",
    ));
    j.extend(segment(0xDB, &[0; 65]));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend(std::iter::repeat_n(0x55, padding));
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The photo addresses on a page, in order.
fn photo_paths(html: &str) -> Vec<String> {
    html.split("<img src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

async fn a_resident_attaches_photos_that_lose_their_location(app: TestApp) {
    let resident = app.sign_in_as(Role::Resident).await;
    let csrf = app.csrf(&resident).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("category", "water")
        .text("answer.estate", "幸福里")
        .text("description", "楼道水管漏水，见照片")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(phone_jpeg(100))
                .file_name("IMG_0001.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        // A file input left empty sends an empty part; it is not a photo.
        .part(
            "photo",
            reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
        );
    let res = resident
        .post(app.url("/appeals/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap()
    );
    let case = res.headers()["location"].to_str().unwrap().to_owned();
    let html = page(&resident, app.url(&case)).await;
    let paths = photo_paths(&html);
    assert_eq!(paths.len(), 1, "{html}");
    assert!(
        !html.contains("/original"),
        "residents get no original link"
    );
    // The photo anyone with its address sees has no position; the JPEG data is untouched.
    let res = reqwest::get(app.url(&paths[0])).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let served = res.bytes().await.unwrap();
    assert!(!contains(&served, b"GPS"));
    assert!(contains(&served, &[0x55; 100]));
    // The original is for staff who see the case, and each view is recorded.
    let original = app.url(&format!("{}/original", paths[0]));
    assert_eq!(
        resident.get(&original).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let html = page(&staff, app.url(&case)).await;
    assert!(html.contains("/original"));
    let res = staff.get(&original).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(contains(&res.bytes().await.unwrap(), b"GPSLatitude"));
    let recorded = app.store.recent_audit_entries(5).await.unwrap();
    assert!(recorded
        .iter()
        .any(|e| e.action == "photo.view_original" && e.actor == "staff"));
    assert_eq!(
        reqwest::get(app.url("/photos/0000"))
            .await
            .unwrap()
            .status(),
        404
    );
    // A note with a photo from the case page.
    let id = case.rsplit('/').next().unwrap().to_owned();
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url(&format!("/appeals/{id}/action")))
        .form(&[("csrf", csrf.as_str()), ("action", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let csrf = app.csrf(&staff).await;
    let res = staff
        .post(app.url(&format!("/appeals/{id}/action")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "assign"),
            ("department", "公用事业服务中心"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let note = reqwest::multipart::Form::new()
        .text("csrf", app.csrf(&staff).await)
        .text("action", "note")
        .text("text", "维修前现场")
        .text("visible", "1")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(phone_jpeg(10)).file_name("a.jpg"),
        );
    let res = staff
        .post(app.url(&format!("/appeals/{id}/action")))
        .multipart(note)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&resident, app.url(&case)).await;
    assert_eq!(
        photo_paths(&html).len(),
        2,
        "the resident sees the note's photo"
    );
    // A file that is not a photo is refused on the form, in the user's language.
    let bad = reqwest::multipart::Form::new()
        .text("csrf", app.csrf(&resident).await)
        .text("category", "other")
        .text("description", "附件")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(b"%PDF-1.7 ...".to_vec()).file_name("x.pdf"),
        );
    let before = app
        .store
        .appeal_photos(id.parse().unwrap())
        .await
        .unwrap()
        .len();
    let res = resident
        .post(app.url("/appeals/new"))
        .multipart(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "the form again, with the problem"
    );
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("第 1 张照片不是 JPEG、PNG 或 WebP 图片"));
    assert_eq!(
        app.store
            .appeal_photos(id.parse().unwrap())
            .await
            .unwrap()
            .len(),
        before
    );
}

async fn the_api_takes_photos_on_appeals_notes_and_replies_within_limits(app: TestApp) {
    let staff = app.sign_in_as(Role::DepartmentStaff).await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let post = |url: String, body: Value| {
        let staff = staff.clone();
        async move {
            let res = staff.post(url).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let appeal = |photos: Vec<String>| json!({"category": "other", "description": "路面塌陷", "contact_name": "李四", "contact_phone": "13900008888", "channel": "phone", "address": "北街", "photos": photos});
    let total = || async {
        app.store
            .search_appeals(&crate::search::query(yongxin_store::AppealScope::All, None))
            .await
            .unwrap()
            .total
    };
    // Four photos, a GIF, one too large, bad base64: refused, nothing stored.
    let jpeg = b64(&phone_jpeg(10));
    for (photos, message) in [
        (vec![jpeg.clone(); 4], "最多只能附 3 张照片"),
        (vec![jpeg.clone(), b64(b"GIF89a......")], "第 2 张照片不是"),
        (
            vec![b64(&phone_jpeg(10 * 1024 * 1024))],
            "第 1 张照片超过 10 MB",
        ),
        (vec!["***".into()], "photos"),
    ] {
        let (status, body) = post(app.url("/api/v1/appeals"), appeal(photos)).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.to_string().contains(message), "{body}");
    }
    assert_eq!(total().await, 0);
    let (status, a) = post(
        app.url("/api/v1/appeals"),
        appeal(vec![jpeg.clone(), b64(&phone_jpeg(3))]),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["photos"].as_array().unwrap().len(), 2);
    assert!(a["photos"][0]["event"].is_null());
    assert_eq!(a["photos"][0]["content_type"], "image/jpeg");
    let id = a["id"].as_i64().unwrap();
    let act = |body: Value| post(app.url(&format!("/api/v1/appeals/{id}/actions")), body);
    // Only notes and replies carry photos.
    let (status, body) = act(json!({"action": "accept", "photos": [jpeg]})).await;
    assert_eq!(status, 400);
    assert!(
        body.to_string()
            .contains("只有办理记录和办结答复可以附照片"),
        "{body}"
    );
    let (status, _) = act(json!({"action": "accept"})).await;
    assert_eq!(status, 200);
    act(json!({"action": "assign", "department": "城市管理办公室"})).await;
    let (status, done) =
        act(json!({"action": "answer", "reply": "已修复", "photos": [b64(&phone_jpeg(5))]})).await;
    assert_eq!(status, 200, "{done}");
    let photos = done["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 3);
    let event = photos[2]["event"].as_u64().unwrap() as usize;
    assert_eq!(done["events"][event]["action"], "answer");
    let served = staff
        .get(app.url(photos[2]["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!contains(&served, b"GPS"));
    // Open311 shows a case's photo only to the client that relayed it (trust.rs tests that
    // one); this case came through the API, so a client with a key gets none, nor does anyone
    // without.
    let key = yongxin_web::auth::random_token();
    app.store
        .create_open311_key(
            &Actor::user("test"),
            "hotline",
            &yongxin_web::auth::token_hash(&key),
        )
        .await
        .unwrap();
    let number = done["number"].as_str().unwrap();
    let keyed = json(
        &staff,
        app.url(&format!("/open311/v2/requests/{number}.json?api_key={key}")),
    )
    .await;
    assert!(keyed[0]["media_url"].is_null());
    assert!(!photos.is_empty());
    let anonymous = json(
        &staff,
        app.url(&format!("/open311/v2/requests/{number}.json")),
    )
    .await;
    assert!(anonymous[0]["media_url"].is_null());
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}
