//! The generated image of the scan benchmark: five gzip layers of a Debian 12 image with 300
//! installed dpkg packages, 100 Python distributions and 100 npm packages in its final
//! filesystem, padded with bulk payload (pseudo-random "binary" bytes and word text) to the
//! requested uncompressed size, and the facts the OSV generator needs about what it planted.
//!
//! Layers, lowest first:
//! 0. base system: `/usr/lib/os-release` (and the `/etc/os-release` symlink), a dpkg `status`
//!    in which 20 source packages are still at older versions, `/var/lib/dpkg/info` lists,
//!    executables and shared libraries, documentation;
//! 1. Python: 105 `*.dist-info` directories in site-packages with their modules;
//! 2. npm: 105 packages under `/app/node_modules` (some scoped, some nested), with scripts and
//!    native addons;
//! 3. the application: data files, one large executable, and whiteouts that delete 5 Python
//!    distributions and 5 npm packages, a payload file, and (opaque) `/usr/share/doc`;
//! 4. an upgrade: a new dpkg `status` with the 20 sources at their final versions and 10
//!    removed packages left as `deinstall ok config-files`, plus the upgraded libraries.
//!
//! Everything comes from a fixed-seed generator, so every run builds the same bytes.

use crate::Rng;
use std::collections::HashSet;
use std::io::Write;

/// Words for names and text.
const WORDS: &[&str] = &[
    "alpha", "bravo", "cairo", "delta", "ember", "fable", "gamma", "harbor", "iris", "jasper",
    "kilo", "lumen", "mango", "nectar", "onyx", "pixel", "quartz", "raven", "sierra", "tango",
    "umber", "vortex", "willow", "xenon", "yarrow", "zephyr", "anchor", "beacon", "cobalt", "dune",
    "echo", "falcon", "glacier", "helix", "ingot", "jungle", "kernel", "lotus", "meadow", "nimbus",
    "orbit", "prism", "quill", "ripple", "saber", "tundra", "utopia", "valve", "wander", "yield",
    "zenith", "buffer", "socket", "parser", "stream", "vector", "matrix", "cipher", "crypt",
    "token", "ledger", "signal", "thread", "cache",
];

/// Source packages with two binary packages, and with one; 80 * 2 + 140 = 300 installed
/// binaries from 220 sources.
const SOURCES_WITH_TWO: usize = 80;
const SOURCES_WITH_ONE: usize = 140;
/// Sources whose first layer's status has an older version, upgraded in layer 4.
const UPGRADED_SOURCES: usize = 20;
/// Packages removed (left as config files) in layer 4's status.
const REMOVED_DEBS: usize = 10;
/// Python distributions and npm packages kept, and deleted by whiteouts in layer 3.
const PYTHON_KEPT: usize = 100;
const NPM_KEPT: usize = 100;
const WHITED_OUT: usize = 5;

/// An installed version in one of the three orderings the image uses, with versions known to
/// sort above, below and equal to it, for the OSV generator to plant matching and non-matching
/// ranges without relying on the code under test to order them.
#[derive(Debug, Clone)]
pub enum Version {
    /// `[epoch:]a.b.c-rev[+deb12uN]`.
    Deb {
        epoch: u32,
        up: [u32; 3],
        rev: u32,
        update: u32,
    },
    /// `a.b` or `a.b.c` (PEP 440).
    Pep { a: u32, b: u32, c: Option<u32> },
    /// `a.b.c` (SemVer).
    Sem { a: u32, b: u32, c: u32 },
}

impl Version {
    pub fn installed(&self) -> String {
        match *self {
            Version::Deb {
                epoch,
                up: [a, b, c],
                rev,
                update,
            } => {
                let epoch = if epoch > 0 {
                    format!("{epoch}:")
                } else {
                    String::new()
                };
                let update = if update > 0 {
                    format!("+deb12u{update}")
                } else {
                    String::new()
                };
                format!("{epoch}{a}.{b}.{c}-{rev}{update}")
            }
            Version::Pep { a, b, c: None } => format!("{a}.{b}"),
            Version::Pep { a, b, c: Some(c) } => format!("{a}.{b}.{c}"),
            Version::Sem { a, b, c } => format!("{a}.{b}.{c}"),
        }
    }

    /// A version above the installed one; `small` picks the smallest step the scheme has
    /// (a Debian stable update, a PEP 440 micro release).
    pub fn higher(&self, small: bool) -> String {
        match *self {
            Version::Deb {
                epoch,
                up: [a, b, c],
                rev,
                update,
            } if small => Version::Deb {
                epoch,
                up: [a, b, c],
                rev,
                update: update + 1,
            }
            .installed(),
            Version::Deb {
                epoch,
                up: [a, b, c],
                ..
            } => Version::Deb {
                epoch,
                up: [a, b, c + 1],
                rev: 1,
                update: 0,
            }
            .installed(),
            Version::Pep { a, b, c } => format!("{a}.{b}.{}", c.unwrap_or(0) + 1),
            Version::Sem { a, b, c } => format!("{a}.{b}.{}", c + 1),
        }
    }

    /// A version above `higher`.
    pub fn higher2(&self) -> String {
        match *self {
            Version::Deb {
                epoch,
                up: [a, b, _],
                ..
            } => Version::Deb {
                epoch,
                up: [a, b + 1, 0],
                rev: 1,
                update: 0,
            }
            .installed(),
            Version::Pep { a, b, .. } | Version::Sem { a, b, .. } => format!("{a}.{}.0", b + 1),
        }
    }

    /// A version below the installed one, chosen to exercise each scheme's traps: an epoch-less
    /// Debian version that looks higher, a Debian `~` revision, a PEP 440 release candidate, a
    /// SemVer prerelease.
    pub fn lower(&self) -> String {
        match *self {
            Version::Deb {
                epoch,
                up: [a, _, _],
                ..
            } if epoch > 0 => format!("{}.0.0-1", a + 1),
            Version::Deb {
                up: [a, b, c], rev, ..
            } => format!("{a}.{b}.{c}-{rev}~deb12u1"),
            Version::Pep { a, b, c } => format!("{a}.{b}.{}rc1", c.unwrap_or(0)),
            Version::Sem { a, b, c } => format!("{a}.{b}.{c}-beta.1"),
        }
    }

    /// A version equal to the installed one; for a two-part PEP 440 version, spelled with a
    /// trailing `.0` (equal under PEP 440).
    pub fn equal(&self) -> String {
        match *self {
            Version::Pep { a, b, c: None } => format!("{a}.{b}.0"),
            _ => self.installed(),
        }
    }
}

/// The ecosystems of the image's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eco {
    Debian,
    PyPI,
    Npm,
}

/// A name advisories are filed under, with the version the image has of it and how many
/// packages of the final inventory carry it (0 for removed or whited-out packages).
#[derive(Debug, Clone)]
pub struct Subject {
    pub eco: Eco,
    /// The name as advisories spell it (a Debian source package; a PyPI name in its PEP 503
    /// form, which may differ from the distribution's own spelling).
    pub name: String,
    pub version: Version,
    pub packages: usize,
}

/// One generated image.
pub struct Image {
    /// The gzip-compressed layer tars, lowest first.
    pub layers: Vec<Vec<u8>>,
    /// Their uncompressed tar sizes.
    pub tar_bytes: Vec<u64>,
    pub subjects: Vec<Subject>,
    /// Packages in the final inventory: dpkg, Python, npm.
    pub expected: (usize, usize, usize),
}

/// Builds the image with about `target_bytes` of uncompressed tar in total.
pub fn generate(target_bytes: u64) -> Image {
    let mut rng = Rng(0x5CA1_AB1E_D00D_F00D);
    let mut subjects = Vec::new();
    let mut layers = vec![
        Layer::new(),
        Layer::new(),
        Layer::new(),
        Layer::new(),
        Layer::new(),
    ];
    // Each layer's share of the image, in percent; bulk payload fills each to its share.
    let shares = [35, 20, 22, 18, 5];
    let payload = |i: usize| target_bytes * shares[i] / 100;

    // Layer 0 and 4: the Debian system.
    let debs = debian(&mut rng, &mut subjects);
    let release = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
        VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n\
        HOME_URL=\"https://www.debian.org/\"\n";
    layers[0].file("usr/lib/os-release", 0o644, release.as_bytes());
    layers[0].symlink("etc/os-release", "../usr/lib/os-release");
    layers[0].file(
        "var/lib/dpkg/status",
        0o644,
        debs.status(&mut rng, false).as_bytes(),
    );
    for pkg in &debs.binaries {
        let list = words_between(&mut rng, 2_000, 6_000);
        let path = format!("var/lib/dpkg/info/{}:amd64.list", pkg.name);
        layers[0].file(&path, 0o644, list.as_bytes());
    }
    bulk(
        &mut rng,
        &mut layers[0],
        payload(0),
        "usr/share/doc",
        "usr/lib/x86_64-linux-gnu",
    );
    layers[4].file(
        "var/lib/dpkg/status",
        0o644,
        debs.status(&mut rng, true).as_bytes(),
    );
    bulk(
        &mut rng,
        &mut layers[4],
        payload(4),
        "usr/share/doc/upgraded",
        "usr/lib/x86_64-linux-gnu",
    );

    // Layer 1: Python distributions; the last WHITED_OUT are deleted in layer 3.
    let site = "usr/local/lib/python3.11/site-packages";
    let mut python_gone = Vec::new();
    for i in 0..PYTHON_KEPT + WHITED_OUT {
        let word = pick(&mut rng, WORDS);
        // Every seventh distribution spells its name with capitals and an underscore, as some
        // do; advisories file it under the PEP 503 form.
        let (own, normalized) = if i % 7 == 3 {
            let cap = format!("{}{}", word[..1].to_ascii_uppercase(), &word[1..]);
            (format!("Py_{cap}{i}"), format!("py-{word}{i}"))
        } else {
            (format!("{word}-py{i}"), format!("{word}-py{i}"))
        };
        let version = Version::Pep {
            a: 1 + rng.below(6) as u32,
            b: rng.below(20) as u32,
            c: (rng.below(3) != 0).then(|| rng.below(12) as u32),
        };
        let dist = format!("{site}/{own}-{}.dist-info", version.installed());
        let metadata = format!(
            "Metadata-Version: 2.1\nName: {own}\nVersion: {}\nSummary: {}\nHome-page: \
             https://example.org/{own}\nAuthor: The {word} authors\nLicense: MIT\n\
             Requires-Python: >=3.8\nRequires-Dist: {}-py1 (>=1.0)\n\n{}\nVersion: 99.0 \
             (a changelog line in the body, which is not a header)\n",
            version.installed(),
            phrase(&mut rng, 60),
            pick(&mut rng, WORDS),
            words_between(&mut rng, 1_500, 3_000),
        );
        layers[1].file(&format!("{dist}/METADATA"), 0o644, metadata.as_bytes());
        layers[1].file(&format!("{dist}/INSTALLER"), 0o644, b"pip\n");
        let record = words_between(&mut rng, 1_000, 2_000);
        layers[1].file(&format!("{dist}/RECORD"), 0o644, record.as_bytes());
        if i >= PYTHON_KEPT {
            layers[3].whiteout(&dist);
            python_gone.push(Subject {
                eco: Eco::PyPI,
                name: normalized,
                version,
                packages: 0,
            });
        } else {
            subjects.push(Subject {
                eco: Eco::PyPI,
                name: normalized,
                version,
                packages: 1,
            });
        }
    }
    subjects.extend(python_gone);
    bulk(
        &mut rng,
        &mut layers[1],
        payload(1),
        site,
        "usr/local/lib/python3.11/lib-dynload",
    );

    // Layer 2: npm packages under /app/node_modules; every tenth is scoped, every eighth nested
    // in the previous one's node_modules. The last WHITED_OUT are deleted in layer 3.
    let mut npm_gone = Vec::new();
    let mut previous_dir = String::new();
    for i in 0..NPM_KEPT + WHITED_OUT {
        let word = pick(&mut rng, WORDS);
        let name = if i % 10 == 4 {
            format!("@{}/{word}-js{i}", pick(&mut rng, WORDS))
        } else {
            format!("{word}-js{i}")
        };
        let version = Version::Sem {
            a: 1 + rng.below(9) as u32,
            b: rng.below(30) as u32,
            c: rng.below(15) as u32,
        };
        let dir = if i % 8 == 7 && i < NPM_KEPT {
            format!("{previous_dir}/node_modules/{name}")
        } else {
            format!("app/node_modules/{name}")
        };
        let manifest = format!(
            "{{\n  \"name\": \"{name}\",\n  \"version\": \"{}\",\n  \"description\": \"{}\",\n  \
             \"main\": \"lib/index.js\",\n  \"license\": \"MIT\",\n  \"repository\": {{ \
             \"type\": \"git\", \"url\": \"https://example.org/{word}.git\" }},\n  \
             \"scripts\": {{ \"test\": \"node test.js\" }},\n  \"dependencies\": {{ \
             \"{}-js1\": \"^1.2.0\" }},\n  \"engines\": {{ \"node\": \">=18\" }}\n}}\n",
            version.installed(),
            phrase(&mut rng, 80),
            pick(&mut rng, WORDS),
        );
        layers[2].file(&format!("{dir}/package.json"), 0o644, manifest.as_bytes());
        let readme = words_between(&mut rng, 1_000, 4_000);
        layers[2].file(&format!("{dir}/README.md"), 0o644, readme.as_bytes());
        if i >= NPM_KEPT {
            layers[3].whiteout(&dir);
            npm_gone.push(Subject {
                eco: Eco::Npm,
                name,
                version,
                packages: 0,
            });
        } else {
            subjects.push(Subject {
                eco: Eco::Npm,
                name,
                version,
                packages: 1,
            });
            previous_dir = dir;
        }
    }
    subjects.extend(npm_gone);
    bulk(
        &mut rng,
        &mut layers[2],
        payload(2),
        "app/node_modules/.cache",
        "app/build/Release",
    );

    // Layer 3: the application, its large executable, and the other whiteouts.
    let big = payload(3) / 3;
    layers[3].file("app/bin/server", 0o755, &binary(&mut rng, big as usize));
    layers[3].whiteout("usr/share/doc/text-0");
    layers[3].opaque("usr/share/doc");
    bulk(&mut rng, &mut layers[3], payload(3), "app/data", "app/lib");

    let (tar_bytes, layers) = layers.into_iter().map(Layer::gzip).unzip();
    Image {
        layers,
        tar_bytes,
        subjects,
        expected: (debs.binaries.len(), PYTHON_KEPT, NPM_KEPT),
    }
}

/// A binary package of the dpkg status.
struct Binary {
    name: String,
    source: String,
    /// The source's final version, and (for the upgraded sources) the older one of layer 0.
    version: Version,
    old: Option<Version>,
    /// A binNMU: `Version: <source version>+b1`, `Source: <source> (<source version>)`.
    binnmu: bool,
}

struct Debian {
    binaries: Vec<Binary>,
    /// Names removed in layer 4 (config files left), with their last versions.
    removed: Vec<(String, Version)>,
}

fn debian(rng: &mut Rng, subjects: &mut Vec<Subject>) -> Debian {
    let mut binaries = Vec::new();
    for s in 0..SOURCES_WITH_TWO + SOURCES_WITH_ONE {
        let source = format!("{}{s}", pick(rng, WORDS));
        let up = [
            rng.below(4) as u32,
            rng.below(30) as u32,
            1 + rng.below(20) as u32,
        ];
        let version = Version::Deb {
            epoch: u32::from(rng.below(5) == 0),
            up,
            rev: 1 + rng.below(4) as u32,
            update: if rng.below(4) == 0 {
                1 + rng.below(3) as u32
            } else {
                0
            },
        };
        let old = (s % 11 == 5 && s / 11 < UPGRADED_SOURCES).then(|| match version {
            Version::Deb { epoch, rev, .. } => Version::Deb {
                epoch,
                up: [up[0], up[1], up[2] - 1],
                rev,
                update: 0,
            },
            ref other => other.clone(),
        });
        let binnmu = s % 15 == 7;
        let names = if s < SOURCES_WITH_TWO {
            vec![format!("lib{source}"), format!("{source}-common")]
        } else {
            vec![source.clone()]
        };
        subjects.push(Subject {
            eco: Eco::Debian,
            name: source.clone(),
            version: version.clone(),
            packages: names.len(),
        });
        for name in names {
            binaries.push(Binary {
                name,
                source: source.clone(),
                version: version.clone(),
                old: old.clone(),
                binnmu,
            });
        }
    }
    let mut removed = Vec::new();
    for r in 0..REMOVED_DEBS {
        let name = format!("old{}{r}", pick(rng, WORDS));
        let version = Version::Deb {
            epoch: 0,
            up: [1, rng.below(9) as u32, 1 + rng.below(9) as u32],
            rev: 1,
            update: 0,
        };
        subjects.push(Subject {
            eco: Eco::Debian,
            name: name.clone(),
            version: version.clone(),
            packages: 0,
        });
        removed.push((name, version));
    }
    Debian { binaries, removed }
}

impl Debian {
    /// The status file: layer 0's (`last` false: older versions of the upgraded sources, the
    /// removed packages still installed) or layer 4's.
    fn status(&self, rng: &mut Rng, last: bool) -> String {
        let mut out = String::new();
        for b in &self.binaries {
            let version = match (&b.old, last) {
                (Some(old), false) => old.installed(),
                _ => b.version.installed(),
            };
            let (version, source) = match (b.binnmu, b.name == b.source) {
                (true, _) => (
                    format!("{version}+b1"),
                    Some(format!("{} ({version})", b.source)),
                ),
                (false, true) => (version, None),
                (false, false) => (version, Some(b.source.clone())),
            };
            stanza(
                rng,
                &mut out,
                &b.name,
                "install ok installed",
                &version,
                source,
            );
        }
        for (name, version) in &self.removed {
            let status = if last {
                "deinstall ok config-files"
            } else {
                "install ok installed"
            };
            stanza(rng, &mut out, name, status, &version.installed(), None);
        }
        out
    }
}

fn stanza(
    rng: &mut Rng,
    out: &mut String,
    name: &str,
    status: &str,
    version: &str,
    source: Option<String>,
) {
    out.push_str(&format!(
        "Package: {name}\nStatus: {status}\nPriority: optional\nSection: libs\n\
         Installed-Size: {}\nMaintainer: Debian {name} Maintainers <{name}@packages.debian.org>\n\
         Architecture: amd64\nMulti-Arch: same\n",
        40 + rng.below(4000)
    ));
    if let Some(source) = source {
        out.push_str(&format!("Source: {source}\n"));
    }
    out.push_str(&format!(
        "Version: {version}\nDepends: libc6 (>= 2.34), lib{} (>= 1.2)\nDescription: {}\n",
        pick(rng, WORDS),
        phrase(rng, 50)
    ));
    for line in words_between(rng, 300, 900).lines() {
        out.push_str(&format!(" {}\n", line.trim()));
    }
    out.push('\n');
}

/// Fills a layer with payload until its tar holds about `bytes`: half word text (documentation, scripts) under
/// `text_dir`, half pseudo-random bytes (libraries, one executable in eight) under `bin_dir`,
/// in files of 1 KiB to 2 MiB.
fn bulk(rng: &mut Rng, layer: &mut Layer, bytes: u64, text_dir: &str, bin_dir: &str) {
    let mut n = 0usize;
    loop {
        let written = layer.tar.get_ref().len() as u64;
        if written >= bytes {
            break;
        }
        let size = (1u64 << (10 + rng.below(11))).min(bytes - written).max(1) as usize;
        let size = size + rng.below(size as u64) as usize / 2;
        if n.is_multiple_of(2) {
            let path = format!("{text_dir}/text-{n}");
            layer.file(&path, 0o644, words(rng, size).as_bytes());
        } else if n % 16 == 1 {
            let path = format!("{bin_dir}/tool-{n}");
            layer.file(&path, 0o755, &binary(rng, size));
        } else {
            let path = format!("{bin_dir}/lib{n}.so.1");
            layer.file(&path, 0o644, &binary(rng, size));
        }
        n += 1;
    }
}

/// The `k`-th word of the vocabulary (cycling).
pub fn word(k: u64) -> &'static str {
    WORDS
        .get((k % WORDS.len() as u64) as usize)
        .copied()
        .unwrap_or("word")
}

/// One line of about `len` bytes of words.
fn phrase(rng: &mut Rng, len: usize) -> String {
    words(rng, len).replace('\n', " ").trim().to_string()
}

/// Word text of `min` to `min + spread` bytes.
pub fn words_between(rng: &mut Rng, min: usize, spread: u64) -> String {
    let len = min + rng.below(spread) as usize;
    words(rng, len)
}

/// Word text of about `len` bytes, in lines of about 70 characters.
pub fn words(rng: &mut Rng, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut line = 0;
    while out.len() < len {
        let word = pick(rng, WORDS);
        out.push_str(word);
        line += word.len() + 1;
        if line > 70 {
            out.push('\n');
            line = 0;
        } else {
            out.push(' ');
        }
    }
    out
}

/// Sections in a generated ELF file's section table.
const ELF_SECTIONS: u64 = 30;

/// `len` bytes shaped like an x86-64 ELF file: a valid ELF64 header whose section table sits at
/// the end of the file, as linkers place it (so a reader looking for a section, like the Rust
/// cataloger, has to read the whole file), then 4 KiB blocks that are mostly pseudo-random, one
/// in four a run of a few repeated bytes (as zero padding and tables make binaries compress to
/// about a half to two thirds). No section is a real one, so no cataloger finds packages.
fn binary(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        let block = (len - out.len()).min(4096);
        if rng.below(4) == 0 {
            let byte = (rng.step() % 4) as u8;
            out.extend(std::iter::repeat_n(byte, block));
        } else {
            for _ in 0..block.div_ceil(8) {
                out.extend_from_slice(&rng.step().to_le_bytes());
            }
        }
    }
    out.truncate(len);
    let table = ELF_SECTIONS * 64;
    let shoff = (len as u64).saturating_sub(table).max(64);
    let mut header = Vec::with_capacity(64);
    header.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    header.extend_from_slice(&3u16.to_le_bytes()); // e_type: a position-independent executable
    header.extend_from_slice(&0x3Eu16.to_le_bytes()); // e_machine: x86-64
    header.extend_from_slice(&1u32.to_le_bytes()); // e_version
    header.extend_from_slice(&0x1040u64.to_le_bytes()); // e_entry
    header.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    header.extend_from_slice(&shoff.to_le_bytes()); // e_shoff
    header.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    header.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    header.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    header.extend_from_slice(&13u16.to_le_bytes()); // e_phnum
    header.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    header.extend_from_slice(&(ELF_SECTIONS as u16).to_le_bytes()); // e_shnum
    header.extend_from_slice(&(ELF_SECTIONS as u16 - 1).to_le_bytes()); // e_shstrndx
    let n = header.len().min(out.len());
    out[..n].copy_from_slice(&header[..n]);
    out
}

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from.get(rng.below(from.len() as u64) as usize)
        .copied()
        .unwrap_or("word")
}

/// A layer's tar stream being written, with the directory entries it has emitted.
struct Layer {
    tar: tar::Builder<Vec<u8>>,
    dirs: HashSet<String>,
}

impl Layer {
    fn new() -> Layer {
        Layer {
            tar: tar::Builder::new(Vec::new()),
            dirs: HashSet::new(),
        }
    }

    /// Emits directory entries for the parents of `path` not yet emitted, as image builders do.
    fn parents(&mut self, path: &str) {
        let mut end = 0;
        while let Some(i) = path.get(end..).and_then(|rest| rest.find('/')) {
            end += i;
            let dir = path.get(..end).unwrap_or_default().to_string();
            end += 1;
            if self.dirs.insert(dir.clone()) {
                let mut h = header(tar::EntryType::Directory, 0o755, 0);
                self.append(&mut h, &format!("{dir}/"), b"");
            }
        }
    }

    fn append(&mut self, h: &mut tar::Header, path: &str, data: &[u8]) {
        self.tar
            .append_data(h, path, data)
            .expect("appending to a tar in memory");
    }

    fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.parents(path);
        let mut h = header(tar::EntryType::Regular, mode, data.len() as u64);
        self.append(&mut h, path, data);
    }

    fn symlink(&mut self, path: &str, target: &str) {
        self.parents(path);
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        h.set_link_name(target).expect("a short link target");
        self.append(&mut h, path, b"");
    }

    /// Deletes `path` of the layers below (`.wh.<name>`).
    fn whiteout(&mut self, path: &str) {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        self.file(&format!("{dir}/.wh.{name}"), 0o644, b"");
    }

    /// Hides everything the layers below hold in `dir` (`.wh..wh..opq`).
    fn opaque(&mut self, dir: &str) {
        self.file(&format!("{dir}/.wh..wh..opq"), 0o644, b"");
    }

    /// Ends the tar stream and compresses it at gzip's default level, as `docker build` does.
    /// Returns the uncompressed size and the compressed bytes.
    fn gzip(self) -> (u64, Vec<u8>) {
        let tar = self.tar.into_inner().expect("finishing a tar in memory");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).expect("compressing in memory");
        (
            tar.len() as u64,
            gz.finish().expect("compressing in memory"),
        )
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}
