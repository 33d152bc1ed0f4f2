//! The request body extractor: enforces the content type and the size limit and hands the
//! handler the raw bytes, so that authorisation runs before any parsing and every failure
//! becomes an [`ApiError`] rather than one of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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

/// Bytes reserved for an answer before it is written: a loan decision with its offer takes
/// about 1.5 KiB, and a longer answer grows the buffer by doubling.
const ANSWER_BYTES_RESERVED: usize = 2048;

/// An answer written as JSON (`application/json`). axum's `Json` writes through an `io::Write`
/// adapter into a buffer of 128 bytes, so each of the hundreds of small writes of a loan
/// decision's answer went through the adapter and the buffer grew four times; written into a
/// `Vec` sized for most answers, the answer costs 40 % fewer instructions (callgrind).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(ANSWER_BYTES_RESERVED);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(error) => {
                // Not an ApiError: its answer is written by this same type.
                tracing::error!(%error, "an answer could not be written as JSON");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the answer could not be written as JSON",
                )
                    .into_response()
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_json_or_a_plain_server_error() {
        let answer = Json(serde_json::json!({"status": "ok"})).into_response();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/json"))
        );
        // JSON object keys must be strings: a map keyed by pairs cannot be written.
        let unwritable: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let answer = Json(unwritable).into_response();
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_ne!(
            answer.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/json"))
        );
    }
}
