//! `KmsConfig`: where KMS is and which credentials sign for it. Its `Debug` never prints the secret
//! access key or the session token.

use std::fmt;

/// Endpoint, region and credentials of one KMS client.
#[derive(Clone)]
pub struct KmsConfig {
    /// Base URL, e.g. `https://kms.eu-west-1.amazonaws.com` (see [`KmsConfig::aws_endpoint`]) or a
    /// local KMS such as `http://127.0.0.1:4599`. Requests go to its path (normally `/`).
    pub endpoint: String,
    /// The SigV4 signing region, e.g. `eu-west-1`.
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For temporary credentials: sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl KmsConfig {
    /// The public AWS KMS endpoint of `region`.
    pub fn aws_endpoint(region: &str) -> String {
        format!("https://kms.{region}.amazonaws.com")
    }
}

impl fmt::Debug for KmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let config = KmsConfig {
            endpoint: KmsConfig::aws_endpoint("eu-west-1"),
            region: "eu-west-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
        };
        let printed = format!("{config:?}");
        assert!(printed.contains("AKIDEXAMPLE"), "{printed}");
        assert!(printed.contains("https://kms.eu-west-1.amazonaws.com"));
        assert!(!printed.contains("wJalrXUtnFEMI"), "{printed}");
        assert!(!printed.contains("FwoGZXIvYXdz"), "{printed}");
    }
}
