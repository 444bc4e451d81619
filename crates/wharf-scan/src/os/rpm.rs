//! The rpm cataloger: the sqlite rpmdb (`rpmdb.sqlite`) of Fedora, RHEL 9 and its rebuilds,
//! openSUSE and Amazon Linux 2023. The database is copied to a temporary file (sqlite needs a
//! file), opened read-only with sqlite's defensive settings, and each package header blob is
//! decoded by `rpm_header`. The older Berkeley DB and NDB formats are not read.

use super::rpm_header::{tag, Header};
use super::{malformed, push_within_budget, read_error};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::io::{self, Read, Write};

const PATHS: [&str; 2] = [
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// The first 16 bytes of every sqlite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Reads sqlite rpm databases.
#[derive(Debug, Default, Clone, Copy)]
pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        PATHS.contains(&file.path)
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let copy = copy_database(file, reader, limits)?;
        let conn = open(copy.path())
            .map_err(|err| malformed(file, format!("cannot open the rpm database: {err}")))?;
        let not_rpm = |err: rusqlite::Error| malformed(file, format!("not an rpm database: {err}"));
        let mut statement = conn.prepare("SELECT blob FROM Packages").map_err(not_rpm)?;
        let mut rows = statement.query([]).map_err(not_rpm)?;
        let mut packages = Vec::new();
        let mut number = 0usize;
        // One row at a time, stopping at the package budget: the database may be as large as the
        // file limit.
        while let Some(row) = rows.next().map_err(not_rpm)? {
            number += 1;
            let bad_row =
                |reason: String| malformed(file, format!("package row {number}: {reason}"));
            let blob = row.get_ref(0).map_err(not_rpm)?;
            let blob = blob
                .as_blob()
                .map_err(|_| bad_row("the blob column is not a blob".to_string()))?;
            let header = Header::parse(blob).map_err(bad_row)?;
            if let Some(package) = package(file, &header).map_err(bad_row)? {
                push_within_budget(file, &mut packages, package, limits)?;
            }
        }
        Ok(packages)
    }
}

/// Copies the database to a temporary file, checking its magic and turning a WAL-mode header
/// into a rollback-journal one: the image's `-wal` file is not copied along, and a read-only
/// WAL database without one cannot be opened.
fn copy_database(
    file: &FileInfo<'_>,
    reader: &mut dyn Read,
    limits: &Limits,
) -> Result<tempfile::NamedTempFile, CatalogError> {
    let io_error = |err: io::Error| read_error(file, err, limits);
    let mut head = [0u8; 100];
    let mut filled = 0;
    while filled < head.len() {
        let Some(space) = head.get_mut(filled..) else {
            break;
        };
        match reader.read(space) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(io_error(err)),
        }
    }
    if filled < head.len() || !head.starts_with(SQLITE_MAGIC) {
        return Err(malformed(file, "not a SQLite database"));
    }
    // Bytes 18 and 19 are the write and read format versions: 2 means WAL, 1 legacy.
    if head[18] == 2 && head[19] == 2 {
        head[18] = 1;
        head[19] = 1;
    }
    let mut copy = tempfile::NamedTempFile::new().map_err(|err| CatalogError::Io {
        path: file.path.to_string(),
        source: err,
    })?;
    let write_error = |err: io::Error| CatalogError::Io {
        path: file.path.to_string(),
        source: err,
    };
    copy.write_all(&head).map_err(write_error)?;
    // The walker's reader is capped at `max_file_bytes`, which bounds the copy.
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(io_error(err)),
        };
        copy.write_all(buf.get(..n).unwrap_or_default())
            .map_err(write_error)?;
    }
    copy.flush().map_err(write_error)?;
    Ok(copy)
}

/// Opens the copy read-only, with the settings sqlite recommends for untrusted databases.
fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    conn.pragma_update(None, "cell_size_check", true)?;
    Ok(conn)
}

/// The package a header describes; `None` for the `gpg-pubkey` pseudo-packages rpm uses to
/// store imported signing keys.
fn package(file: &FileInfo<'_>, header: &Header<'_>) -> Result<Option<Package>, String> {
    let required = |t: u32, what: &str| -> Result<String, String> {
        header
            .string(t)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("header has no {what}"))
    };
    let name = required(tag::NAME, "NAME")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = required(tag::VERSION, "VERSION")?;
    let release = required(tag::RELEASE, "RELEASE")?;
    let version = match header.int32(tag::EPOCH)? {
        Some(epoch) => format!("{epoch}:{version}-{release}"),
        None => format!("{version}-{release}"),
    };
    let optional = |t: u32| -> Result<Option<String>, String> {
        Ok(header.string(t)?.filter(|s| !s.is_empty()))
    };
    Ok(Some(Package {
        kind: PackageKind::Rpm,
        name,
        version,
        source_name: optional(tag::SOURCERPM)?.and_then(|srpm| source_name(&srpm)),
        source_version: None,
        arch: optional(tag::ARCH)?,
        licenses: optional(tag::LICENSE)?.into_iter().collect(),
        location: file.path.to_string(),
    }))
}

/// The name part of a source RPM file name, `name-version-release.src.rpm`.
fn source_name(srpm: &str) -> Option<String> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))
        .unwrap_or(srpm);
    let mut parts = stem.rsplitn(3, '-');
    let (_release, _version, name) = (parts.next(), parts.next(), parts.next());
    name.filter(|n| !n.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names() {
        let check = |srpm: &str, expected: Option<&str>| {
            assert_eq!(source_name(srpm).as_deref(), expected, "{srpm}");
        };
        check("bash-5.1.8-6.el9.src.rpm", Some("bash"));
        check("python-pip-21.2.3-7.el9.noarch.src.rpm", Some("python-pip"));
        check("kernel-5.14.0-362.el9.nosrc.rpm", Some("kernel"));
        check("glibc-2.34-60.el9", Some("glibc"));
        check("nodashes.src.rpm", None);
        check("-1-2.src.rpm", None);
    }
}
