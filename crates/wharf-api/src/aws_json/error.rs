//! The awsJson1.1 error envelope, shared by every AWS JSON service Wharf answers.
//!
//! `{"__type": "<Code>", "message": "..."}` plus the `X-Amzn-ErrorType` header (botocore reads the
//! body, other SDKs the header). Client errors are 400, `ServerException` is 500, as ECR answers.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// An error as an AWS JSON API reports it.
#[derive(Debug)]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
    /// Extra members serialized next to `message` (e.g. `lastValidByteReceived`).
    pub extra: Map<String, Value>,
}

impl AwsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> AwsError {
        AwsError::new("InvalidParameterException", message)
    }

    pub fn with(mut self, key: &str, value: Value) -> AwsError {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn server() -> AwsError {
        AwsError::new("ServerException", "An internal error occurred.")
    }

    fn status(&self) -> StatusCode {
        if self.code == "ServerException" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = Map::new();
        body.insert("__type".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        body.extend(self.extra);
        let mut resp = (status, Value::Object(body).to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn envelope_names_the_type_and_message() {
        let resp = AwsError::new("RepositoryNotFoundException", "gone")
            .with("extra", json!(1))
            .into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers()["x-amzn-errortype"],
            "RepositoryNotFoundException"
        );
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"__type": "RepositoryNotFoundException", "message": "gone", "extra": 1})
        );
        assert_eq!(AwsError::server().into_response().status(), 500);
    }
}
