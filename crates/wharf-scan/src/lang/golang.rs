//! Go modules built into binaries, from the build information the Go linker embeds
//! (`go version -m` shows the same data).
//!
//! The file is streamed in chunks (with an overlap so the magic cannot hide across a chunk
//! boundary) looking for the build-info header `\xff Go buildinf:`. Go 1.18 and later write the
//! header followed inline by two varint-length strings: the Go version and the module info, a text
//! block wrapped in 16-byte sentinels. Older binaries store pointers instead and are skipped.
//!
//! What is reported mirrors Syft v1.57's Go binary cataloger: one package per `dep` line (named
//! by its `=>` replacement unless that is a local directory), the main module (`mod`; without one,
//! the single `(devel)` dependency or the `path` line), and `stdlib` at the Go version (`go1.22.1`,
//! without the ` X:…` experiments). A `(devel)` main-module version is replaced, as Syft does, by a
//! version set with `-ldflags` (`-X main.version=1.2.3` → `v1.2.3`) or a pseudo-version from the
//! VCS build settings (`v0.0.0-<time>-<rev>`); failing both, and for any other `(devel)` module,
//! the version is unknown (`UNKNOWN`, Syft's stub).

use super::{is_executable, looks_like_text, package};
use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::package::{Package, PackageKind};
use regex::Regex;
use std::io::Read;

/// Reads Go binaries' build info.
pub struct GoBinaryCataloger;

/// The build-info header's magic.
const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The header's size: magic, pointer size, flags, padding to 32 bytes.
const HEADER_LEN: usize = 32;
/// The flag saying the version and module info follow inline (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;
/// How much of the file is scanned per read.
const CHUNK: usize = 1 << 20;
/// The largest module info accepted; real ones are a few KiB to a few hundred KiB.
const MAX_MODINFO: usize = 16 << 20;
/// The smallest file worth scanning: a Go binary is at least a megabyte.
const MIN_SIZE: u64 = 4096;

impl Cataloger for GoBinaryCataloger {
    fn name(&self) -> &'static str {
        "go-binary"
    }

    fn wants(&self, file: &FileInfo<'_>) -> bool {
        is_executable(file.mode) && file.size >= MIN_SIZE && !looks_like_text(file.path)
    }

    fn catalog(
        &self,
        file: &FileInfo<'_>,
        reader: &mut dyn Read,
        _limits: &Limits,
    ) -> Result<Vec<Package>, CatalogError> {
        let io = |source| CatalogError::Io {
            path: file.path.to_string(),
            source,
        };
        let Some(info) = find_build_info(reader).map_err(io)? else {
            return Ok(Vec::new());
        };
        Ok(info.packages(file.path))
    }
}

/// The build info of a Go binary: the Go version and the parsed module info.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// As written, e.g. `go1.22.1` or `go1.22.1 X:boringcrypto`.
    pub go_version: String,
    /// The main package's import path (`path` line).
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` settings, in order (`-ldflags`, `vcs.revision`, `GOARCH`, …).
    pub settings: Vec<(String, String)>,
}

/// One module line (`mod` or `dep`), with its `=>` replacement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

impl BuildInfo {
    /// The packages Syft reports for this binary, located at `location`.
    pub fn packages(&self, location: &str) -> Vec<Package> {
        let mut deps = self.deps.clone();
        let mut main = self.main.clone();
        // Syft treats a binary without a `mod` line (or with the placeholder module that
        // `go build file.go` records) as missing its main module, and takes it from the one
        // dependency at `(devel)`, else from the `path` line.
        let placeholder = Module {
            path: "command-line-arguments".to_string(),
            ..Module::default()
        };
        let missing = match &main {
            None => !self.path.is_empty(),
            Some(m) => *m == placeholder,
        };
        if missing {
            let devel: Vec<usize> = deps
                .iter()
                .enumerate()
                .filter(|(_, d)| d.version == DEVEL)
                .map(|(i, _)| i)
                .collect();
            main = Some(match devel.as_slice() {
                [only] => deps.remove(*only),
                _ => Module {
                    path: self.path.clone(),
                    version: DEVEL.to_string(),
                    ..Module::default()
                },
            });
        }

        let mut out = Vec::new();
        for dep in &deps {
            if main.as_ref() == Some(dep) {
                continue;
            }
            let (name, version) = dep.identity();
            if !name.is_empty() {
                out.push(go_package(&name, &version, location));
            }
        }
        if let Some(mut main) = main.filter(|m| *m != Module::default()) {
            if main.version == DEVEL {
                main.version = self.main_version_guess(&main.path).unwrap_or_default();
            }
            let (name, version) = main.identity();
            out.push(go_package(&name, &version, location));
        }
        // Syft adds `stdlib` for every binary it found a module in, at the Go version without the
        // experiment suffix (" X:…"), when that version holds a release number.
        let go = self.go_version.split(' ').next().unwrap_or_default();
        if !out.is_empty() && go.bytes().any(|b| b.is_ascii_digit()) {
            let mut stdlib = go_package("stdlib", go, location);
            stdlib.licenses = vec!["BSD-3-Clause".to_string()];
            out.push(stdlib);
        }
        out
    }

    fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// What Syft puts in place of a `(devel)` main-module version: a version set with
    /// `-ldflags -X main.version=…` (or in a package of the main module), else a pseudo-version
    /// from the VCS revision and time.
    fn main_version_guess(&self, main_path: &str) -> Option<String> {
        if let Some(version) = self
            .setting("-ldflags")
            .and_then(|flags| version_from_ldflags(flags, main_path))
        {
            return Some(version);
        }
        let revision = self.setting("vcs.revision")?;
        let time = self.setting("vcs.time")?;
        let short: String = revision.chars().take(12).collect();
        Some(format!("v0.0.0-{}-{short}", pseudo_timestamp(time)))
    }
}

impl Module {
    /// The name and version Syft reports for a module line: a replacement's, except that a
    /// replacement by a local directory keeps the original path; `(devel)` means no version.
    fn identity(&self) -> (String, String) {
        let (name, version) = match self.replace.as_deref() {
            Some(r) if r.path.starts_with('.') || r.path.starts_with('/') => {
                (self.path.clone(), r.version.clone())
            }
            Some(r) => (r.path.clone(), r.version.clone()),
            None => (self.path.clone(), self.version.clone()),
        };
        let version = if version == DEVEL {
            String::new()
        } else {
            version
        };
        (name, version)
    }
}

const DEVEL: &str = "(devel)";

fn go_package(name: &str, version: &str, location: &str) -> Package {
    package(PackageKind::GoModule, name, version, Vec::new(), location)
}

/// Syft's patterns for a version set through the linker (`-X main.version=1.2.3`,
/// `-X example.com/app/internal/build.Version=v1.2.3`, `-X main.gitTag=…`), each prefixed with
/// `main` or a package of the main module. Rust's regex has the same leftmost-first semantics as
/// Go's, so the same text picks the same version.
const LDFLAG_PATTERNS: [&str; 2] = [
    r"(?m)\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*(?:\.[-\w]+)*)",
    r"(?m)\.[a-zA-Z0-9]*([tT]ag)=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*(?:\.[-\w]+)*)",
];

/// The main-module version `-ldflags` sets, with a `v` prefix as Syft writes it.
pub fn version_from_ldflags(ldflags: &str, main_module: &str) -> Option<String> {
    if ldflags.is_empty() {
        return None;
    }
    // Like Syft, the module path goes into the pattern with only `/` escaped.
    let prefix = format!(r"(main|{}\/[^\s]*)", main_module.replace('/', r"\/"));
    LDFLAG_PATTERNS.iter().find_map(|pattern| {
        let re = Regex::new(&format!("{prefix}{pattern}")).ok()?;
        let version = re.captures(ldflags)?.name("version")?.as_str();
        Some(if version.starts_with('v') {
            version.to_string()
        } else {
            format!("v{version}")
        })
    })
}

/// `vcs.time` (RFC 3339) as a pseudo-version timestamp `yyyymmddhhmmss` in UTC. Like Go's
/// `module.PseudoVersion` after a failed parse, an unreadable time gives `00010101000000`.
pub fn pseudo_timestamp(time: &str) -> String {
    parse_rfc3339(time)
        .map(|(y, mo, d, h, mi, s)| format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}"))
        .unwrap_or_else(|| "00010101000000".to_string())
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` into UTC fields.
fn parse_rfc3339(text: &str) -> Option<(i64, i64, i64, i64, i64, i64)> {
    let num = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, rest) = text.split_once(['T', 't'])?;
    let mut date_parts = date.split('-');
    let year = num(date_parts.next()?)?;
    let month = num(date_parts.next()?)?;
    let day = num(date_parts.next()?)?;
    let clock = rest.get(..8)?;
    let zone = rest.get(8..)?;
    let mut clock_parts = clock.split(':');
    let hour = num(clock_parts.next()?)?;
    let minute = num(clock_parts.next()?)?;
    let second = num(clock_parts.next()?)?;
    // Skip fractional seconds, then read the zone.
    let zone = zone
        .strip_prefix('.')
        .map(|z| z.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(zone);
    let offset_minutes = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (h, m) = zone.get(1..)?.split_once(':')?;
            sign * (num(h)? * 60 + num(m)?)
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    Some((y, mo, d, secs / 3600, secs % 3600 / 60, secs % 60))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Streams `reader` looking for Go 1.18+ build info. Memory stays bounded by one chunk plus the
/// module info being decoded, whatever the file's size.
pub fn find_build_info(reader: &mut dyn Read) -> std::io::Result<Option<BuildInfo>> {
    let mut window: Vec<u8> = Vec::with_capacity(CHUNK + HEADER_LEN);
    let mut eof = false;
    let mut first = true;
    loop {
        if !eof && window.len() < CHUNK {
            eof = fill(reader, &mut window, CHUNK)?;
        }
        if first {
            first = false;
            // Only executable formats carry build info: ELF, PE, Mach-O (both byte orders, fat).
            if !is_binary_format(&window) {
                return Ok(None);
            }
        }
        let mut from = 0;
        while let Some(at) = window
            .get(from..)
            .and_then(|rest| find(rest, MAGIC))
            .map(|i| i + from)
        {
            loop {
                match decode_inline(window.get(at..).unwrap_or_default()) {
                    Decode::Found(info) => return Ok(Some(info)),
                    Decode::Invalid => break,
                    Decode::NeedMore(total) => {
                        // Grow the window just enough to hold the whole record, within bounds.
                        if eof || total > MAX_MODINFO + HEADER_LEN + 64 {
                            break;
                        }
                        let want = at + total;
                        eof = fill(reader, &mut window, want)?;
                    }
                }
            }
            from = at + 1;
        }
        if eof {
            return Ok(None);
        }
        // Keep the tail that could hold the start of a magic split across reads.
        let keep = window.len().saturating_sub(MAGIC.len() - 1);
        window.drain(..keep);
    }
}

/// Reads until `window` holds `want` bytes or the stream ends; returns whether it ended.
fn fill(reader: &mut dyn Read, window: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 << 10];
    while window.len() < want {
        let n = match reader.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(true);
        }
        window.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
    Ok(false)
}

fn is_binary_format(head: &[u8]) -> bool {
    const MAGICS: &[&[u8]] = &[
        b"\x7fELF",
        b"MZ",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

enum Decode {
    Found(BuildInfo),
    /// The record is cut off; this many bytes from the magic are needed.
    NeedMore(usize),
    Invalid,
}

/// Decodes an inline (Go 1.18+) build-info record starting at the magic.
fn decode_inline(rec: &[u8]) -> Decode {
    if rec.len() < HEADER_LEN {
        return Decode::NeedMore(HEADER_LEN);
    }
    let ptr_size = rec.get(14).copied().unwrap_or(0);
    let flags = rec.get(15).copied().unwrap_or(0);
    if !(ptr_size == 4 || ptr_size == 8) || flags & FLAG_INLINE == 0 {
        // Either not a header (the magic quoted in rodata, e.g. by debug/buildinfo) or the
        // pointer-based format of Go 1.17 and older.
        return Decode::Invalid;
    }
    let mut pos = HEADER_LEN;
    let mut strings = Vec::with_capacity(2);
    for _ in 0..2 {
        let Some((len, used)) = read_uvarint(rec.get(pos..).unwrap_or_default()) else {
            return if rec.len() < pos + 10 {
                Decode::NeedMore(pos + 10)
            } else {
                Decode::Invalid
            };
        };
        let Ok(len) = usize::try_from(len) else {
            return Decode::Invalid;
        };
        if len > MAX_MODINFO {
            return Decode::Invalid;
        }
        let start = pos + used;
        let end = start + len;
        match rec.get(start..end) {
            Some(bytes) => strings.push(bytes),
            None => return Decode::NeedMore(end),
        }
        pos = end;
    }
    let (Some(version), Some(modinfo)) = (strings.first(), strings.get(1)) else {
        return Decode::Invalid;
    };
    let version = String::from_utf8_lossy(version).into_owned();
    if !version.starts_with("go") && !version.starts_with("devel") {
        return Decode::Invalid;
    }
    // The module info sits between two 16-byte sentinels; the last line ends right before the
    // closing one. Without them (a binary built outside module mode) there is no module info.
    let modinfo = if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo.get(16..modinfo.len() - 16).unwrap_or_default()
    } else {
        &[]
    };
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = version;
    Decode::Found(info)
}

fn read_uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Parses the module-info text (`runtime/debug.ParseBuildInfo`'s format). Malformed lines are
/// skipped rather than failing the whole binary.
pub fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    // Which module a following `=>` line replaces: the main module or the last dependency.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("go\t") {
            info.go_version = rest.to_string();
        } else if let Some(rest) = line.strip_prefix("path\t") {
            info.path = rest.to_string();
        } else if let Some(rest) = line.strip_prefix("mod\t") {
            info.main = module_line(rest);
            last = if info.main.is_some() {
                Last::Main
            } else {
                Last::None
            };
        } else if let Some(rest) = line.strip_prefix("dep\t") {
            match module_line(rest) {
                Some(m) => {
                    info.deps.push(m);
                    last = Last::Dep;
                }
                None => last = Last::None,
            }
        } else if let Some(rest) = line.strip_prefix("=>\t") {
            let replacement = module_line(rest).map(Box::new);
            match last {
                Last::Main => {
                    if let Some(main) = info.main.as_mut() {
                        main.replace = replacement;
                    }
                }
                Last::Dep => {
                    if let Some(dep) = info.deps.last_mut() {
                        dep.replace = replacement;
                    }
                }
                Last::None => {}
            }
            last = Last::None;
        } else if let Some(rest) = line.strip_prefix("build\t") {
            if let Some(setting) = build_setting(rest) {
                info.settings.push(setting);
            }
        }
    }
    info
}

/// `path \t version [\t sum]`.
fn module_line(rest: &str) -> Option<Module> {
    let fields: Vec<&str> = rest.split('\t').collect();
    if !(2..=3).contains(&fields.len()) {
        return None;
    }
    Some(Module {
        path: fields.first()?.to_string(),
        version: fields.get(1)?.to_string(),
        sum: fields.get(2).map(|s| s.to_string()).unwrap_or_default(),
        replace: None,
    })
}

/// `key=value`, where either side may be a Go-quoted string.
fn build_setting(rest: &str) -> Option<(String, String)> {
    let (key, after) = if rest.starts_with('"') {
        let (key, used) = go_unquote_prefix(rest)?;
        (key, rest.get(used..)?.strip_prefix('=')?)
    } else {
        let (key, value) = rest.split_once('=')?;
        (key.to_string(), value)
    };
    let value = if after.starts_with('"') {
        go_unquote_prefix(after)?.0
    } else {
        after.to_string()
    };
    Some((key, value))
}

/// Decodes the Go double-quoted string at the start of `s`; returns it and the bytes consumed.
fn go_unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let digits = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..digits)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    '0'..='7' => {
                        let mut code = e.to_digit(8)?;
                        for _ in 0..2 {
                            code = code * 8 + chars.next()?.1.to_digit(8)?;
                        }
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None
}
