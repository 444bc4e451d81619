//! `Operation`: the name a surface gives the request it served (an ECR operation, an OCI route
//! kind, a console page), put into the response's extensions for the metrics middleware
//! (`metrics.rs`). It lives apart from the middleware, which sits above the surfaces it
//! classifies, so that the surfaces label responses without depending on it.

/// The operation a surface served, put into the response's extensions for `metrics::track`.
#[derive(Debug, Clone, Copy)]
pub struct Operation(pub &'static str);
