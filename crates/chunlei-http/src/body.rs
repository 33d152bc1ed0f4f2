//! The request body extractor: enforces the content type and the size limit and hands the
//! handler the raw bytes, so that authorisation runs before any parsing and every failure
//! becomes an [`ApiError`] rather than one of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};

use crate::ApiError;

/// The largest request body accepted. A full batch of 8,189 transfers with every field at its
/// longest takes 4.3 MiB of compact JSON (a unit test checks that it fits); the rest is
/// headroom for whitespace.
pub const BODY_BYTES_MAX: usize = 5 * 1024 * 1024;

/// A request body declared as JSON, not yet parsed.
#[derive(Debug)]
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        // Refuse a body declared too large before reading any of it.
        if declared_length(request.headers()).is_some_and(|length| length > BODY_BYTES_MAX) {
            return Err(ApiError::BodyTooLarge {
                max_bytes: BODY_BYTES_MAX,
            });
        }
        // The router sets `DefaultBodyLimit` to `BODY_BYTES_MAX`, which bounds bodies sent
        // without a length (chunked) as they are read.
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(JsonBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::BodyTooLarge {
                    max_bytes: BODY_BYTES_MAX,
                })
            }
            Err(rejection) => Err(ApiError::InvalidBody(format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// True for `application/json`, with or without parameters such as `charset`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
