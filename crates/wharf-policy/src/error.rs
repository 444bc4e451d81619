//! `PolicyError`: every way a policy document can fail to parse or validate.
//!
//! Each message names the place (`Statement[2].Action`) and the problem, so an API layer can
//! append it to ECR's generic `Invalid repository policy provided` text and a user can still fix
//! the document without guessing.

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is longer than ECR's 10,240-character limit.
    #[error("policy text is {len} characters long; the maximum is {max}")]
    TooLong { len: usize, max: usize },

    /// The text is not JSON at all.
    #[error("policy text is not valid JSON: {0}")]
    Json(String),

    /// An element has the wrong JSON type (`at` is a path such as `Statement[0].Action`).
    #[error("{at} must be {expected}")]
    WrongType { at: String, expected: &'static str },

    /// A key the policy grammar does not know, at the top level or inside a statement.
    #[error("{at}: unknown key '{key}'")]
    UnknownKey { at: String, key: String },

    /// A required element is absent.
    #[error("{at}: missing required element {element}")]
    Missing { at: String, element: &'static str },

    /// Two mutually exclusive elements, such as `Action` and `NotAction`, are both present.
    #[error("{at}: {first} and {second} cannot both be present")]
    Conflict {
        at: String,
        first: &'static str,
        second: &'static str,
    },

    /// An element is present where this kind of policy forbids it.
    #[error("{at}: {element} is not allowed in {kind} policies")]
    NotAllowed {
        at: String,
        element: &'static str,
        kind: &'static str,
    },

    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    #[error("Version '{0}' is not supported; use '2012-10-17' or '2008-10-17'")]
    Version(String),

    /// `Statement` is an empty array, or an element holds an empty array.
    #[error("{at} must not be empty")]
    Empty { at: String },

    /// Two statements carry the same `Sid`.
    #[error("{at}: Sid '{sid}' is used by more than one statement")]
    DuplicateSid { at: String, sid: String },

    /// `Effect` is neither `Allow` nor `Deny`.
    #[error("{at}.Effect must be 'Allow' or 'Deny', not '{value}'")]
    Effect { at: String, value: String },

    /// An action name that is neither `*` nor `service:Action`.
    #[error("{at}: invalid action '{value}'; expected '*' or 'service:ActionName' (wildcards * and ? allowed)")]
    Action { at: String, value: String },

    /// A resource that is neither `*` nor a six-part ARN.
    #[error("{at}: invalid resource '{value}'; expected '*' or an ARN such as 'arn:aws:ecr:us-east-1:123456789012:repository/name'")]
    Resource { at: String, value: String },

    /// A principal entry the grammar does not accept.
    #[error("{at}: invalid principal '{value}': {reason}")]
    Principal {
        at: String,
        value: String,
        reason: &'static str,
    },

    /// A condition operator name that is not an IAM operator.
    #[error("{at}: unknown condition operator '{op}'")]
    Operator { at: String, op: String },

    /// A condition value that the operator cannot interpret.
    #[error("{at}: value '{value}' is not valid for {op}: {reason}")]
    ConditionValue {
        at: String,
        op: String,
        value: String,
        reason: &'static str,
    },

    /// The principal ARN given to [`crate::Principal::user`] is not an IAM or STS principal ARN.
    #[error("'{0}' is not a principal ARN of the form arn:aws:iam::123456789012:user/name")]
    PrincipalArn(String),
}
