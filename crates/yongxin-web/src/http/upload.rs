//! Forms that may carry photos: the same handler reads a plain form (`application/x-www-form-
//! urlencoded`) or one with files (`multipart/form-data`), and photos become [`NewPhoto`]s with
//! their location metadata removed.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::IntoResponse;
use yongxin_domain::photo::{clean, PhotoError, MAX_PHOTOS};
use yongxin_store::NewPhoto;

use crate::http::error::AppError;
use crate::http::extract::{checked_form, context_of, unreadable_body};
use crate::http::i18n::Catalog;

/// A file as uploaded.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A form's text fields read as `T` (a typed form, as [`crate::http::extract::CsrfForm`] reads it),
/// and its files.
#[derive(Debug, Default)]
pub struct FormWithFiles<T> {
    /// The text fields.
    pub fields: T,
    /// Files of fields named `photo`.
    pub photos: Vec<Upload>,
    /// Files of other fields: field name, file name as sent, bytes.
    pub files: Vec<(String, String, Vec<u8>)>,
}

/// The form's text fields and files, with its CSRF token checked against the request's context
/// before the fields are read: forms with files are protected like every other.
impl<T, S> FromRequest<S> for FormWithFiles<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = context_of(&req)?;
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let body = axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|e| unreadable_body(e.status(), e.body_text()))?;
            return Ok(Self {
                fields: checked_form(&ctx, &body)?,
                photos: Vec::new(),
                files: Vec::new(),
            });
        }
        let (text, photos, files) = read_multipart(req, state).await?;
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&text)
            .finish();
        Ok(Self {
            fields: checked_form(&ctx, encoded.as_bytes())?,
            photos,
            files,
        })
    }
}

/// What a multipart body holds: its text fields in order, its photos, its other files.
type FormParts = (
    Vec<(String, String)>,
    Vec<Upload>,
    Vec<(String, String, Vec<u8>)>,
);

async fn read_multipart<S: Send + Sync>(req: Request, state: &S) -> Result<FormParts, AppError> {
    let mut parts = Multipart::from_request(req, state)
        .await
        .map_err(|e| unreadable_body(e.status(), e.body_text()))?;
    let (mut text, mut photos, mut files) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(field) = parts
        .next_field()
        .await
        .map_err(|e| unreadable_body(e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| unreadable_body(e.status(), e.body_text()))?;
        if let Some(file_name) = file_name {
            // A file input left empty still sends an empty part.
            if bytes.is_empty() {
                continue;
            }
            if name == "photo" {
                photos.push(Upload {
                    bytes: bytes.to_vec(),
                });
            } else {
                files.push((name, file_name, bytes.to_vec()));
            }
        } else {
            text.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok((text, photos, files))
}

/// Checks and cleans photos for one appeal, note or reply.
pub fn photos(
    uploads: &[Upload],
    max_bytes: usize,
    c: &Catalog,
) -> Result<Vec<NewPhoto>, AppError> {
    if uploads.len() > MAX_PHOTOS {
        return Err(photo_error(&PhotoError::TooMany, 0, c));
    }
    uploads
        .iter()
        .enumerate()
        .map(|(i, u)| {
            // Cleaned now only to refuse what will not clean when served.
            let clean = clean(&u.bytes, max_bytes).map_err(|e| photo_error(&e, i + 1, c))?;
            Ok(NewPhoto {
                token: crate::http::auth::random_token(),
                content_type: clean.kind.content_type().to_owned(),
                original: u.bytes.clone(),
            })
        })
        .collect()
}

fn photo_error(e: &PhotoError, n: usize, c: &Catalog) -> AppError {
    let n = n.to_string();
    AppError::bad_request(match e {
        PhotoError::UnknownKind => c.format("photo.kind", &[("n", n)]),
        PhotoError::Damaged => c.format("photo.damaged", &[("n", n)]),
        PhotoError::TooLarge { max_bytes } => c.format(
            "photo.too_large",
            &[("n", n), ("mb", (max_bytes / (1024 * 1024)).to_string())],
        ),
        PhotoError::TooMany => c.format("photo.too_many", &[("max", MAX_PHOTOS.to_string())]),
    })
}

/// Serves a photo's bytes, never guessed from the body: a fixed type, no sniffing, kept private.
pub fn photo_response(content_type: &str, bytes: Vec<u8>) -> axum::response::Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::header::CACHE_CONTROL,
                "private, max-age=86400".to_owned(),
            ),
            (
                axum::http::header::X_CONTENT_TYPE_OPTIONS,
                "nosniff".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response()
}
