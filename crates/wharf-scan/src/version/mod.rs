//! Version ordering per ecosystem (dpkg, apk, rpm, PEP 440, semver/npm, Go, Maven, …), as OSV
//! `ECOSYSTEM` ranges require. (Skeleton: to be filled in.)
