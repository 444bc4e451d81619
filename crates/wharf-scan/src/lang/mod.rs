//! Catalogers of language ecosystems' package metadata.

use crate::catalog::Cataloger;

/// The language catalogers, in the order the walker offers them files.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    Vec::new()
}
