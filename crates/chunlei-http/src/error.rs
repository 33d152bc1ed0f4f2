//! Every way a request can fail, and the one place that maps each to an HTTP status and a
//! stable machine-readable code.
//!
//! Clients branch on `error.code`; `error.message` is for the person reading the log. A code
//! never changes meaning once published. Causes of internal failures are logged here and never
//! sent to the client.

use crate::body::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chunlei_store::StoreError;
use serde::Serialize;

/// Seconds a client should wait before retrying an overloaded server.
const RETRY_AFTER_S: u32 = 1;

/// A request that could not be served. Malformed input is rejected whole: when a handler
/// returns one of the input variants, nothing of the request has been applied.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not valid JSON.
    #[error("{0}")]
    InvalidJson(String),
    /// The body is JSON but not of the shape the route takes (an object where an array
    /// belongs, say).
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    UnknownField(String),
    /// A field or parameter has the wrong type or an impossible value.
    #[error("{0}")]
    InvalidField(String),
    /// An amount above `i64::MAX`, the largest the ledger stores.
    #[error("{0}")]
    AmountOutOfRange(String),
    /// A zero amount on a transfer that is not a post or void.
    #[error("{0}")]
    AmountZero(String),
    #[error("the batch is empty; send at least one event")]
    BatchEmpty,
    #[error("the batch has {count} events; at most {max} are allowed per request")]
    BatchTooLarge { count: usize, max: usize },
    #[error("the request body is larger than {max_bytes} bytes")]
    BodyTooLarge { max_bytes: usize },
    #[error("the request body must be JSON, sent with Content-Type: application/json")]
    UnsupportedMediaType,
    /// A list `limit` of zero or above the maximum.
    #[error("{0}")]
    LimitOutOfRange(String),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("this key may not perform this action")]
    Forbidden,
    /// The record does not exist or the caller may not see it; the two are deliberately
    /// indistinguishable.
    #[error("{0}")]
    NotFound(String),
    #[error("this route does not accept this method")]
    MethodNotAllowed,
    /// A loan application was sent to a server without a lending configuration.
    #[error("this server decides no loans: it runs without --lending and --scorecard")]
    LendingNotConfigured,
    /// The application id is taken by an application with other content.
    #[error("application {0} was sent before with a different merchant, amount or term")]
    ApplicationIdConflict(String),
    /// The decision named was declined: there is no offer to accept.
    #[error("application {0} was declined; there is no offer to accept")]
    ApplicationNotApproved(String),
    /// The merchant carries a fraud flag with another reason.
    #[error(
        "merchant {0} already carries a fraud flag with another reason; clear it before flagging again"
    )]
    FraudFlagConflict(String),
    /// An offer was accepted for a merchant that carries a fraud flag.
    #[error(
        "merchant {0} carries a fraud flag: no loan is disbursed to it until the flag is cleared"
    )]
    MerchantFraudFlagged(String),
    /// A portfolio report would read more loans than one request may.
    #[error("the portfolio has more than {0} loans; report on one bank at a time")]
    PortfolioTooLarge(usize),
    /// The loan book refused a command.
    #[error("{}", .0.message())]
    Loan(chunlei_lending::loans::LoanRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A failure of the server itself; the string is logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The status and stable code of each error. Every variant is listed, and so is every
    /// store error, so that a new one cannot be added without deciding how clients see it.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidBody(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
            ApiError::UnknownField(_) => (StatusCode::BAD_REQUEST, "unknown_field"),
            ApiError::InvalidField(_) => (StatusCode::BAD_REQUEST, "invalid_field"),
            ApiError::AmountOutOfRange(_) => (StatusCode::BAD_REQUEST, "amount_out_of_range"),
            ApiError::AmountZero(_) => (StatusCode::BAD_REQUEST, "amount_must_not_be_zero"),
            ApiError::BatchEmpty => (StatusCode::BAD_REQUEST, "batch_empty"),
            ApiError::BatchTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large"),
            ApiError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::LimitOutOfRange(_) => (StatusCode::BAD_REQUEST, "limit_out_of_range"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::LendingNotConfigured => {
                (StatusCode::SERVICE_UNAVAILABLE, "lending_not_configured")
            }
            ApiError::ApplicationIdConflict(_) => (StatusCode::CONFLICT, "application_id_conflict"),
            ApiError::PortfolioTooLarge(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "portfolio_too_large")
            }
            ApiError::FraudFlagConflict(_) => (StatusCode::CONFLICT, "fraud_flag_conflict"),
            ApiError::MerchantFraudFlagged(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "merchant_fraud_flagged")
            }
            ApiError::ApplicationNotApproved(_) => {
                (StatusCode::CONFLICT, "application_not_approved")
            }
            ApiError::Loan(rejection) => {
                use chunlei_lending::loans::LoanRejection as R;
                let status = match rejection {
                    R::LoanNotFound => StatusCode::NOT_FOUND,
                    R::LoanIdConflict
                    | R::ApplicationAlreadyAccepted { .. }
                    | R::RequestIdConflict => StatusCode::CONFLICT,
                    R::MerchantHasNoAccount
                    | R::PlatformPartTooLarge
                    | R::InsufficientFunds { .. }
                    | R::TooManyOperations
                    | R::Servicing(_) => StatusCode::UNPROCESSABLE_ENTITY,
                };
                (status, rejection.code())
            }
            ApiError::Store(error) => match error {
                StoreError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
                // The loan route decides again instead; another caller may retry.
                StoreError::InputsChanged => (StatusCode::SERVICE_UNAVAILABLE, "inputs_changed"),
                StoreError::BatchTooLarge { .. } => {
                    (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large")
                }
                StoreError::BadUrl(_)
                | StoreError::Sqlite(_)
                | StoreError::Postgres(_)
                | StoreError::WriterStopped
                | StoreError::ReaderStopped
                | StoreError::InUse(_)
                | StoreError::WithoutWriter
                | StoreError::Corrupt(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(cause = %error_chain(&self), "request failed");
            "the server failed to complete the request; the cause has been logged".to_owned()
        } else {
            self.to_string()
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        }
        response
    }
}

/// The error and its sources, for the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
