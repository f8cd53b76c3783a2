//! The body of `POST /graphql`: one GraphQL request as JSON. Anything else
//! (a body that is too large, not JSON, not a GraphQL request, or a batch)
//! is answered in GraphQL's own error shape with a code, like every other
//! error, so a client has one way to read failures.

use crate::error::coded;
use async_graphql_axum::GraphQLResponse;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use deedlog_runtime::ErrorCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Reads the request, or the response that refuses it.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<async_graphql::Request, Response> {
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default().to_ascii_lowercase();
        if !kind.contains("json") {
            return Err(refusal(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::InvalidArgument,
                "send the request as JSON (Content-Type: application/json)".to_owned(),
            ));
        }
    }
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidArgument,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(error) => {
            tracing::debug!(%error, "a GraphQL request body could not be read");
            return Err(bad_request(
                "the request body could not be read completely".to_owned(),
            ));
        }
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(bad_request(
            "batched requests are not supported; send one operation per request".to_owned(),
        ));
    }
    const SHAPE: &str =
        "an object with \"query\", and optionally \"variables\" and \"operationName\"";
    let request: async_graphql::Request = serde_json::from_slice(&bytes).map_err(|error| {
        let what = if error.is_data() {
            format!("not a GraphQL request ({SHAPE})")
        } else {
            "not valid JSON".to_owned()
        };
        bad_request(format!("the request body is {what}: {error}"))
    })?;
    if request.query.trim().is_empty() {
        return Err(bad_request(format!(
            "the request body is not a GraphQL request: it has no \"query\" ({SHAPE})"
        )));
    }
    Ok(request)
}

fn bad_request(message: String) -> Response {
    refusal(StatusCode::BAD_REQUEST, ErrorCode::InvalidArgument, message)
}

/// A GraphQL response holding only `message`, with `code`, sent with `status`.
pub fn refusal(status: StatusCode, code: ErrorCode, message: String) -> Response {
    let error = coded(code, message).into_server_error(async_graphql::Pos::default());
    let mut response =
        GraphQLResponse::from(async_graphql::Response::from_errors(vec![error])).into_response();
    *response.status_mut() = status;
    response
}
