//! The request body of an AWS JSON call, read whole under one limit.

use super::AwsError;
use axum::body::Body;
use http_body_util::{BodyExt, Limited};

/// Largest request body accepted: an `UploadLayerPart` of 20 MiB, base64-encoded, plus framing.
pub const MAX_BODY: usize = 28 * 1024 * 1024;

/// Reads the body, refusing more than [`MAX_BODY`] bytes with `SerializationException`.
pub async fn read(body: Body) -> Result<bytes::Bytes, AwsError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(AwsError::new(
            "SerializationException",
            format!("The request body exceeds {MAX_BODY} bytes."),
        )),
        Err(_) => Err(AwsError::new(
            "SerializationException",
            "The request body could not be read.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let ok = read(Body::from(vec![b'x'; 10])).await.unwrap();
        assert_eq!(ok.len(), 10);
        let e = read(Body::from(vec![0u8; MAX_BODY + 1])).await.unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }
}
