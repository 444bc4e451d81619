//! The layer walker: streams each layer's tar (uncompressed, gzip or zstd), offers its regular
//! files to the catalogers, applies whiteouts, and builds the inventory of the final filesystem.
//!
//! No layer is held in memory and nothing is written to the host filesystem: each entry is
//! either read by a cataloger through a size-capped reader or skipped, and only the packages
//! found (and the small os-release files) are remembered per path, in `tree`. Every byte and
//! entry counts against `Limits`, so tar, gzip and zstd bombs stop with a reason instead of
//! filling memory or running forever. Paths are normalized lexically (`paths`); an entry or link
//! that would land outside the image root fails the scan rather than being silently dropped,
//! because an image built that way is hostile or broken.

mod paths;
mod tree;

use crate::catalog::{CatalogError, Cataloger, FileInfo};
use crate::limits::Limits;
use crate::os::release;
use crate::package::{Inventory, OsRelease, Package};
use paths::{normalize_entry, resolve_symlink, whiteout, Whiteout};
use std::cell::Cell;
use std::io::{self, BufReader, Read, Seek, Write};
use tree::{Kept, Node, Tree};

/// How a layer blob is compressed (from its media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    fn stream_name(self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip-compressed tar",
            Compression::Zstd => "zstd-compressed tar",
        }
    }
}

/// Why a scan failed. The message is the reason ECR's scan status description shows.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A layer is not a readable tar stream in its stated compression.
    #[error("layer {layer}: {reason}")]
    BadLayer { layer: usize, reason: String },
    /// A limit was exceeded (tar/zip bomb, huge file, too many entries).
    #[error("layer {layer}: {reason}")]
    Limit { layer: usize, reason: String },
    /// A layer entry would land outside the image root: a path with `..` (path traversal), or a
    /// symlink or hardlink whose target climbs above the root.
    #[error("layer {layer}: {reason}")]
    Unsafe { layer: usize, reason: String },
    /// The scanner's own scratch space failed (a temporary file for a large file several
    /// catalogers read). Not the image's fault.
    #[error("layer {layer}: scratch file: {source}")]
    Scratch {
        layer: usize,
        #[source]
        source: std::io::Error,
    },
    /// A package database is corrupt.
    #[error("layer {layer}: {source}")]
    Catalog {
        layer: usize,
        #[source]
        source: crate::catalog::CatalogError,
    },
}

/// The largest os-release file kept; real ones are a few hundred bytes.
const MAX_RELEASE_BYTES: u64 = 64 << 10;

/// Files several catalogers want are held in memory up to this size, and spooled to a scratch
/// file above it.
const SPOOL_ABOVE: u64 = 4 << 20;

/// How many symlinks are followed when resolving os-release, against link loops.
const MAX_LINK_HOPS: usize = 8;

/// Builds an inventory one layer at a time, lowest layer first.
pub struct InventoryBuilder {
    limits: Limits,
    catalogers: Vec<Box<dyn Cataloger>>,
    /// The index the next layer gets.
    next_layer: usize,
    /// Uncompressed bytes read so far, across layers.
    total_bytes: u64,
    /// Tar entries seen so far, across layers.
    entries: u64,
    tree: Tree,
}

impl InventoryBuilder {
    /// A builder with every cataloger: the OS ones, then the language ones.
    pub fn new(limits: Limits) -> InventoryBuilder {
        let mut catalogers = crate::os::catalogers();
        catalogers.extend(crate::lang::catalogers());
        InventoryBuilder::with_catalogers(limits, catalogers)
    }

    /// A builder with the given catalogers only.
    pub fn with_catalogers(
        limits: Limits,
        catalogers: Vec<Box<dyn Cataloger>>,
    ) -> InventoryBuilder {
        InventoryBuilder {
            limits,
            catalogers,
            next_layer: 0,
            total_bytes: 0,
            entries: 0,
            tree: Tree::default(),
        }
    }

    /// Reads the next layer. After an error the builder's state is unspecified; the scan has
    /// failed and the builder should be dropped.
    pub fn add_layer(
        &mut self,
        compression: Compression,
        layer: &mut dyn Read,
    ) -> Result<(), ScanError> {
        let index = self.next_layer;
        self.next_layer += 1;
        let meter = Meter {
            read: Cell::new(self.total_bytes),
            limit: self.limits.max_total_bytes,
            header_start: Cell::new(None),
            header_limit: self.limits.max_header_bytes,
            tripped: Cell::new(None),
        };
        let mut walk = Walk {
            builder: self,
            index,
            compression,
            meter: &meter,
        };
        let result = match compression {
            Compression::None => walk.run(Metered {
                inner: layer,
                meter: &meter,
            }),
            Compression::Gzip => walk.run(Metered {
                inner: flate2::read::MultiGzDecoder::new(BufReader::new(layer)),
                meter: &meter,
            }),
            Compression::Zstd => match zstd_decoder(layer) {
                Ok(decoder) => walk.run(Metered {
                    inner: decoder,
                    meter: &meter,
                }),
                Err(err) => Err(walk.stream_error(&err)),
            },
        };
        self.total_bytes = meter.read.get();
        result
    }

    /// The inventory of the final filesystem: its OS (from os-release) and its packages, sorted
    /// and without duplicates.
    pub fn finish(self) -> Inventory {
        let os = self.os_release();
        let mut packages = self.tree.into_packages();
        packages.sort();
        packages.dedup();
        Inventory { os, packages }
    }

    /// Reads `/etc/os-release`, following symlinks inside the image, falling back to
    /// `/usr/lib/os-release` when the former is missing or unresolvable.
    fn os_release(&self) -> Option<OsRelease> {
        release::RELEASE_PATHS.iter().find_map(|start| {
            let mut path = (*start).to_string();
            for _ in 0..=MAX_LINK_HOPS {
                match self.tree.get(&path).and_then(|node| node.kept.as_ref()) {
                    Some(Kept::File(bytes)) => {
                        return release::parse(&String::from_utf8_lossy(bytes));
                    }
                    Some(Kept::Symlink(target)) => path = target.clone(),
                    None => return None,
                }
            }
            None
        })
    }
}

fn zstd_decoder(layer: &mut dyn Read) -> io::Result<impl Read + '_> {
    let mut decoder = zstd::Decoder::new(layer)?;
    // A frame may ask for a window of up to 2 GiB; 128 MiB (zstd's own default bound) is
    // plenty for layers and keeps a hostile frame from claiming the rest.
    decoder.window_log_max(27)?;
    Ok(decoder)
}

/// Which limit the metered stream hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Total,
    Header,
}

/// Counts the uncompressed bytes of the tar stream, and the header bytes read between entries.
struct Meter {
    read: Cell<u64>,
    limit: u64,
    /// Where the current run of header reading began, while the tar reader looks for the next
    /// entry.
    header_start: Cell<Option<u64>>,
    header_limit: u64,
    tripped: Cell<Option<Trip>>,
}

/// The uncompressed tar stream, counted by a `Meter`; reading past a limit is an error.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let meter = self.meter;
        if meter.tripped.get().is_some() {
            return Err(io::Error::other("scan limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        let read = meter.read.get().saturating_add(n as u64);
        meter.read.set(read);
        if read > meter.limit {
            meter.tripped.set(Some(Trip::Total));
            return Err(io::Error::other("scan limit exceeded"));
        }
        if let Some(start) = meter.header_start.get() {
            if read.saturating_sub(start) > meter.header_limit {
                meter.tripped.set(Some(Trip::Header));
                return Err(io::Error::other("scan limit exceeded"));
            }
        }
        Ok(n)
    }
}

/// The reader a cataloger gets for one file: at most `cap` bytes, then an error if the file is
/// longer. It records whether the cap was hit and whether the layer stream itself failed, so
/// the walker can blame the right thing when the cataloger returns an error.
struct Capped<'r> {
    inner: &'r mut dyn Read,
    remaining: u64,
    over: bool,
    hit_cap: bool,
    stream_error: Option<io::Error>,
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            if self.over {
                self.hit_cap = true;
                return Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "file exceeds the size limit",
                ));
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        match self.inner.read(buf) {
            Ok(0) if !buf.is_empty() => {
                // The tar reader reports a stream that ends inside an entry's data as a plain
                // end of file; the entry is shorter than its header says, so the layer is cut.
                let err = io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ends inside a file's data",
                );
                let copy = io::Error::new(err.kind(), err.to_string());
                self.stream_error = Some(err);
                Err(copy)
            }
            Ok(n) => {
                self.remaining = self.remaining.saturating_sub(n as u64);
                Ok(n)
            }
            Err(err) => {
                let copy = io::Error::new(err.kind(), err.to_string());
                self.stream_error = Some(err);
                Err(copy)
            }
        }
    }
}

/// One layer being walked.
struct Walk<'b> {
    builder: &'b mut InventoryBuilder,
    index: usize,
    compression: Compression,
    meter: &'b Meter,
}

impl Walk<'_> {
    fn run<R: Read>(&mut self, stream: R) -> Result<(), ScanError> {
        let mut archive = tar::Archive::new(stream);
        let mut entries = archive.entries().map_err(|err| self.stream_error(&err))?;
        loop {
            self.meter.header_start.set(Some(self.meter.read.get()));
            let next = entries.next();
            self.meter.header_start.set(None);
            let mut entry = match next {
                None => return Ok(()),
                Some(Ok(entry)) => entry,
                Some(Err(err)) => return Err(self.stream_error(&err)),
            };
            self.builder.entries += 1;
            if self.builder.entries > self.builder.limits.max_entries {
                return Err(self.limit(format!(
                    "too many entries: the layers hold more than {} tar entries",
                    self.builder.limits.max_entries
                )));
            }
            self.visit(&mut entry)?;
            // Drain what the catalogers left unread, so the tar reader's next header read
            // starts at the next header and the header budget measures headers only.
            io::copy(&mut entry, &mut io::sink()).map_err(|err| self.stream_error(&err))?;
        }
    }

    /// Applies one entry to the remembered filesystem.
    fn visit<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ScanError> {
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalize_entry(&name).map_err(|_| {
            self.unsafe_entry(format!(
                "path traversal: entry {name:?} uses '..' to leave the image root"
            ))
        })?;
        match whiteout(&path) {
            Whiteout::None => {}
            Whiteout::Ignored => return Ok(()),
            Whiteout::Opaque { dir } => {
                let dir = dir.to_string();
                let index = self.index;
                self.tree().remove_tree(&dir, false, Some(index));
                return Ok(());
            }
            Whiteout::Delete { target } => {
                let index = self.index;
                self.tree().remove_tree(&target, true, Some(index));
                return Ok(());
            }
        }
        let kind = entry.header().entry_type();
        // Old tar writers mark directories only by a trailing slash on a regular entry.
        let is_dir = kind.is_dir() || (kind.is_file() && name.ends_with('/'));
        if path == "/" {
            // The root can only be a directory; any other entry type there is meaningless and
            // must not wipe what the lower layers hold.
            return Ok(());
        }
        if is_dir {
            // A directory over a directory merges; over anything else it replaces that one path.
            self.tree().remove_exact(&path);
        } else if kind.is_symlink() {
            let target = link_target(entry);
            let resolved = resolve_symlink(&path, &target).map_err(|_| {
                self.unsafe_entry(format!(
                    "symlink escapes the image root: {path} -> {target}"
                ))
            })?;
            self.tree().remove_tree(&path, true, None);
            if release::is_release_path(&path) {
                let node = Node {
                    layer: self.index,
                    packages: Vec::new(),
                    kept: Some(Kept::Symlink(resolved)),
                };
                self.tree().insert(path, node);
            }
        } else if kind.is_hard_link() {
            let target = link_target(entry);
            let resolved = normalize_entry(&target).map_err(|_| {
                self.unsafe_entry(format!(
                    "hardlink escapes the image root: {path} -> {target}"
                ))
            })?;
            self.tree().remove_tree(&path, true, None);
            // The link shares its target's content, which the tar stream does not repeat: what
            // was read from the target stands for the link too.
            // Kept content is copied only to the paths that keep content, so that a million
            // hardlinks to one kept file cannot each hold a copy.
            let keeps = release::is_release_path(&path);
            let index = self.index;
            let copy = self.builder.tree.get(&resolved).map(|found| Node {
                layer: index,
                packages: found
                    .packages
                    .iter()
                    .map(|package| Package {
                        location: path.clone(),
                        ..package.clone()
                    })
                    .collect(),
                kept: found.kept.clone().filter(|_| keeps),
            });
            if let Some(node) = copy.filter(|n| !n.packages.is_empty() || n.kept.is_some()) {
                self.tree().insert(path, node);
                self.check_package_count()?;
            }
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            self.tree().remove_tree(&path, true, None);
            self.catalog_file(&path, entry)?;
        }
        // Devices, FIFOs and PAX global headers carry no package metadata and are ignored.
        Ok(())
    }

    /// Offers a regular file to the catalogers and remembers what they find.
    fn catalog_file<R: Read>(
        &mut self,
        path: &str,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), ScanError> {
        let mode = entry.header().mode().unwrap_or(0) & 0o7777;
        let info = FileInfo {
            path,
            mode,
            size: entry.size(),
        };
        let wanting: Vec<usize> = (0..self.builder.catalogers.len())
            .filter(|&i| {
                self.builder
                    .catalogers
                    .get(i)
                    .is_some_and(|cataloger| cataloger.wants(&info))
            })
            .collect();
        let keep = release::is_release_path(path) && info.size <= MAX_RELEASE_BYTES;
        let cap = self.builder.limits.max_file_bytes;
        let mut packages = Vec::new();
        let mut kept = None;
        if let ([only], false) = (wanting.as_slice(), keep) {
            packages = self.run_cataloger(*only, &info, entry, true)?;
        } else if keep || (!wanting.is_empty() && info.size <= cap.min(SPOOL_ABOVE)) {
            // Several readers for one small file: hold it in memory once.
            let mut bytes = Vec::new();
            self.copy_entry(entry, info.size, &mut bytes)?;
            for &i in &wanting {
                packages.extend(self.run_cataloger(i, &info, &mut bytes.as_slice(), true)?);
            }
            if keep {
                kept = Some(Kept::File(bytes));
            }
        } else if !wanting.is_empty() && info.size <= cap {
            // Several readers for one large file (an executable both the Go and the Rust
            // catalogers look into): a scratch file holds it, not memory.
            let mut spool = tempfile::tempfile().map_err(|err| self.scratch_error(err))?;
            self.copy_entry(entry, info.size, &mut spool)?;
            for &i in &wanting {
                spool.rewind().map_err(|err| self.scratch_error(err))?;
                packages.extend(self.run_cataloger(i, &info, &mut spool, true)?);
            }
        } else {
            // Several catalogers want a file over the cap: each sees only that it is too large.
            for &i in &wanting {
                packages.extend(self.run_cataloger(i, &info, &mut io::empty(), false)?);
            }
        }
        if !packages.is_empty() || kept.is_some() {
            let node = Node {
                layer: self.index,
                packages,
                kept,
            };
            self.tree().insert(path.to_string(), node);
            self.check_package_count()?;
        }
        Ok(())
    }

    /// Copies an entry's `size` bytes into `out`, telling a cut layer stream from a failing
    /// scratch file.
    fn copy_entry(
        &self,
        entry: &mut dyn Read,
        size: u64,
        out: &mut dyn Write,
    ) -> Result<(), ScanError> {
        let mut reader = Capped {
            inner: entry,
            remaining: size,
            over: false,
            hit_cap: false,
            stream_error: None,
        };
        let copied = io::copy(&mut reader, out);
        if let Some(err) = reader.stream_error {
            return Err(self.stream_error(&err));
        }
        copied.map_err(|err| self.scratch_error(err))?;
        Ok(())
    }

    fn scratch_error(&self, source: io::Error) -> ScanError {
        ScanError::Scratch {
            layer: self.index,
            source,
        }
    }

    /// Runs one cataloger over one file through a capped reader, and turns its failure into the
    /// scan's reason. When `readable` is false the file is over the cap and its bytes are not
    /// available at all: the first read reports it too large.
    fn run_cataloger(
        &self,
        which: usize,
        info: &FileInfo<'_>,
        reader: &mut dyn Read,
        readable: bool,
    ) -> Result<Vec<Package>, ScanError> {
        let Some(cataloger) = self.builder.catalogers.get(which) else {
            return Ok(Vec::new());
        };
        let max_packages = self.builder.limits.max_packages;
        let limits = Limits {
            remaining_packages: max_packages.saturating_sub(self.builder.tree.package_count()),
            ..self.builder.limits.clone()
        };
        let cap = limits.max_file_bytes;
        let mut capped = Capped {
            inner: reader,
            remaining: if readable { info.size.min(cap) } else { 0 },
            over: info.size > cap,
            hit_cap: false,
            stream_error: None,
        };
        let result = cataloger.catalog(info, &mut capped, &limits);
        if let Some(err) = capped.stream_error {
            return Err(self.stream_error(&err));
        }
        match result {
            Ok(packages) => Ok(packages),
            Err(CatalogError::TooManyPackages { .. }) => Err(self.too_many_packages()),
            Err(err @ CatalogError::TooLarge { .. }) => Err(self.limit(err.to_string())),
            Err(_) if capped.hit_cap => Err(self.limit(format!(
                "{}: the file is larger than the {cap}-byte limit ({} bytes)",
                info.path, info.size
            ))),
            Err(source) => Err(ScanError::Catalog {
                layer: self.index,
                source,
            }),
        }
    }

    fn check_package_count(&self) -> Result<(), ScanError> {
        let max = self.builder.limits.max_packages;
        if self.builder.tree.package_count() > max {
            return Err(self.too_many_packages());
        }
        Ok(())
    }

    /// The same reason whether the walker's count or a cataloger's budget tripped first.
    fn too_many_packages(&self) -> ScanError {
        let max = self.builder.limits.max_packages;
        self.limit(format!("the image records more than {max} packages"))
    }

    fn tree(&mut self) -> &mut Tree {
        &mut self.builder.tree
    }

    fn limit(&self, reason: String) -> ScanError {
        ScanError::Limit {
            layer: self.index,
            reason,
        }
    }

    fn unsafe_entry(&self, reason: String) -> ScanError {
        ScanError::Unsafe {
            layer: self.index,
            reason,
        }
    }

    /// Blames a failed read of the layer stream on the limit it hit, or on the stream.
    fn stream_error(&self, err: &io::Error) -> ScanError {
        match self.meter.tripped.get() {
            Some(Trip::Total) => self.limit(format!(
                "the layers expand to more than {} bytes uncompressed (tar or compression bomb)",
                self.meter.limit
            )),
            Some(Trip::Header) => self.limit(format!(
                "a tar entry's headers and name extensions exceed {} bytes",
                self.meter.header_limit
            )),
            None => ScanError::BadLayer {
                layer: self.index,
                reason: format!(
                    "truncated or corrupt {} stream: {err}",
                    self.compression.stream_name()
                ),
            },
        }
    }
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry
        .link_name_bytes()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
