//! Catalogers of language ecosystems' package metadata.
