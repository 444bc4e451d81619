//! The master keyring's part of `wharf migrate-storage`: the target installation must hold every
//! master key version the source's data keys are wrapped under, or nothing it serves can be read.
//! A missing target key file is written from the source's keyring (0600, synced); an existing one
//! (or `WHARF_MASTER_KEY`-less target naming a file that exists) must carry the same fingerprints.

use crate::config::Settings;
use crate::encryption::KeySource;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use wharf_core::crypt::master::MasterKeyring;
use zeroize::Zeroizing;

/// What the migration does with the keyring.
pub enum KeyringStep {
    /// The source records no master key: the target creates its own at first start.
    Nothing,
    /// The target's keyring already holds every recorded version.
    Present(String),
    /// The source's keyring text is written to this path.
    Copy {
        text: Zeroizing<String>,
        to: PathBuf,
    },
}

impl KeyringStep {
    /// A line for people.
    pub fn describe(&self) -> String {
        match self {
            KeyringStep::Nothing => "master keyring: none recorded in the source".into(),
            KeyringStep::Present(at) => {
                format!("master keyring: the target's ({at}) already holds every version")
            }
            KeyringStep::Copy { to, .. } => {
                format!("master keyring: copied to {} (mode 0600)", to.display())
            }
        }
    }

    /// Writes the keyring when the step is a copy.
    pub fn apply(&self) -> anyhow::Result<()> {
        let KeyringStep::Copy { text, to } = self else {
            return Ok(());
        };
        write_new(to, text)
    }
}

/// Decides the step: `recorded` are the (version, fingerprint) pairs of the source's database.
pub fn plan(
    source: &Settings,
    target: &Settings,
    recorded: &[(u32, String)],
) -> anyhow::Result<KeyringStep> {
    if recorded.is_empty() {
        return Ok(KeyringStep::Nothing);
    }
    let (text, from) = read(&source.encryption.key_source)?.with_context(|| {
        format!(
            "the source's master key file {:?} is missing, but its data is encrypted",
            source.encryption.key_source
        )
    })?;
    let ring = parse(&text, &from)?;
    holds_all(&ring, recorded, &format!("the source's keyring ({from})"))?;
    match read(&target.encryption.key_source)? {
        Some((target_text, at)) => {
            let target_ring = parse(&target_text, &at)?;
            holds_all(
                &target_ring,
                recorded,
                &format!("the target's keyring ({at})"),
            )?;
            Ok(KeyringStep::Present(at))
        }
        None => match &target.encryption.key_source {
            KeySource::File { path, .. } => Ok(KeyringStep::Copy {
                text,
                to: path.clone(),
            }),
            KeySource::Env(_) => unreachable!("an environment keyring is always readable"),
        },
    }
}

/// The keyring text and where it came from; `None` for a file that does not exist.
fn read(source: &KeySource) -> anyhow::Result<Option<(Zeroizing<String>, String)>> {
    match source {
        KeySource::Env(text) => Ok(Some((
            Zeroizing::new(text.clone()),
            "WHARF_MASTER_KEY".into(),
        ))),
        KeySource::File { path, .. } => match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some((Zeroizing::new(text), path.display().to_string()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading master key file {}", path.display())),
        },
    }
}

fn parse(text: &str, from: &str) -> anyhow::Result<MasterKeyring> {
    MasterKeyring::parse(text)
        .map_err(|e| anyhow::anyhow!("master keyring {from} is not valid: {e}"))
}

/// Every recorded version must be in `ring` with the recorded fingerprint.
fn holds_all(ring: &MasterKeyring, recorded: &[(u32, String)], what: &str) -> anyhow::Result<()> {
    let versions = ring.versions();
    for (v, fp) in recorded {
        match versions.iter().find(|(have, _)| have == v) {
            None => bail!("{what} lacks master key version {v} (fingerprint {fp}) that the source's data is wrapped under"),
            Some((_, have)) if have != fp => bail!(
                "{what} holds a different key as version {v} (fingerprint {have}, the source's data needs {fp})"
            ),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Creates `path` (never overwrites) readable only by its owner, and syncs it and its directory.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating directory {}", dir.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating master key file {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    if let Some(dir) = dir {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_core::crypt::master;

    fn settings(dir: &Path) -> Settings {
        let raw: crate::config::RawConfig =
            toml::from_str(&format!("data_dir = {:?}", dir)).unwrap();
        Settings::try_from(raw).unwrap()
    }

    fn ring_text(v: u32) -> (Zeroizing<String>, String) {
        let k = master::random_key();
        (master::keyring_line(v, &k), master::fingerprint(&k))
    }

    #[test]
    fn copies_when_missing_checks_when_present() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&src).unwrap();
        let (text, fp) = ring_text(1);
        std::fs::write(src.join("master.key"), text.as_bytes()).unwrap();
        let (s, t) = (settings(&src), settings(&dst));
        let recorded = vec![(1, fp.clone())];

        assert!(matches!(plan(&s, &t, &[]).unwrap(), KeyringStep::Nothing));
        let step = plan(&s, &t, &recorded).unwrap();
        assert!(matches!(step, KeyringStep::Copy { .. }));
        step.apply().unwrap();
        let written = dst.join("master.key");
        assert_eq!(std::fs::read_to_string(&written).unwrap(), *text);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            plan(&s, &t, &recorded).unwrap(),
            KeyringStep::Present(_)
        ));

        // A target keyring with another key under the same version is refused.
        std::fs::remove_file(&written).unwrap();
        std::fs::write(&written, ring_text(1).0.as_bytes()).unwrap();
        let err = plan(&s, &t, &recorded).err().unwrap().to_string();
        assert!(err.contains("different key as version 1"), "{err}");
        // The source's keyring must hold what its database records.
        let err = plan(&s, &t, &[(2, fp)]).err().unwrap().to_string();
        assert!(err.contains("lacks master key version 2"), "{err}");
    }

    #[test]
    fn missing_source_keyring_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let (s, t) = (settings(tmp.path()), settings(&tmp.path().join("b")));
        let err = plan(&s, &t, &[(1, "x".into())]).err().unwrap();
        assert!(format!("{err:#}").contains("missing"), "{err:#}");
    }
}
