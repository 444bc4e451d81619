//! `LifecycleError`: a lifecycle policy text ECR would refuse, carrying ECR's exact wording.
//!
//! ECR answers every policy-content failure with one `InvalidParameterException` whose message
//! wraps a detail in a fixed frame. This type keeps the detail and renders the frame, so the API
//! layer maps it to the wire without composing text of its own.

/// Why a lifecycle policy text was rejected. `Display` and [`LifecycleError::message`] give the
/// full ECR message; [`LifecycleError::detail`] gives the part after `validation failure: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: \
     'Lifecycle policy validation failure: {detail}'"
)]
pub struct LifecycleError {
    detail: String,
}

impl LifecycleError {
    pub(crate) fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
        }
    }

    /// The full message ECR returns with `InvalidParameterException`.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The detail alone, such as `Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.`
    pub fn detail(&self) -> &str {
        &self.detail
    }
}
