//! The filesystem store's write pipeline: an upload body gathered into batches, each hashed on
//! one lane and (sealed and) written on another of the blocking pool, while the next batch is
//! received.
//!
//! Hashing is the costliest step of a push (SHA-256 runs at about 1.3 GiB/s here even with the
//! SHA extensions), so it gets a lane of its own: a batch costs the longer of hashing it and
//! storing it rather than their sum. Both lanes are pooled blocking threads, so a batch costs two
//! thread hops and no thread creation. Small batches (small blobs, a body's last bytes) are hashed
//! and stored by one job, where a second hop would cost more than it saves.

use crate::seal::Sealer;
use crate::{Appended, BlobError, ByteStream, Ingest};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use tokio::task::JoinHandle;
use wharf_oci::Hasher;

/// Plaintext bytes gathered before one hash-(seal-)and-write step: large enough to amortize the
/// thread hops and the writeback hint, small enough that an upload's buffers (two batches and a
/// sealed batch's output) stay a few MiB.
pub(crate) const WRITE_BATCH: usize = 1 << 20;
/// Batches below this are hashed and stored by one job.
const SPLIT_MIN: usize = 256 << 10;
/// Batches at least this large start their writeback at once (see [`start_writeback`]); smaller
/// uploads are fsynced right after anyway, so the extra syscall would buy nothing.
const WRITEBACK_MIN: usize = 256 << 10;

/// Starts asynchronous writeback of `len` bytes just written at `offset`, without waiting for it.
///
/// The fsync in `commit_upload` still decides durability; this only moves the disk work from that
/// final fsync to while the rest of the body is being received, so a large push costs about
/// max(receive, disk) instead of receive + disk. Linux's `POSIX_FADV_DONTNEED` writes dirty pages
/// of the range back with `WB_SYNC_NONE` (what `sync_file_range(SYNC_FILE_RANGE_WRITE)` does)
/// and drops only pages that are already clean, so the fresh batch stays cached; PostgreSQL's
/// `pg_flush_data` uses it the same way where `sync_file_range` is unavailable. `rustix` and `nix`
/// offer no safe `sync_file_range`, and the workspace denies `unsafe`. The hint is advisory: an
/// error is ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: usize) {
    if len >= WRITEBACK_MIN {
        let _ = rustix::fs::fadvise(
            file,
            offset,
            std::num::NonZeroU64::new(len as u64),
            rustix::fs::Advice::DontNeed,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: usize) {}

/// The storing lane's state: the upload file, positioned at `pos`, and its sealer, if sealed.
struct Sink {
    /// The upload file, opened by the first job (so a small body costs one blocking-pool hop).
    file: Option<std::fs::File>,
    path: PathBuf,
    sealer: Option<Sealer>,
    /// Where a sealed batch's output goes, reused batch after batch.
    scratch: BytesMut,
    /// File offset of the next write.
    pos: u64,
}

impl Sink {
    /// The upload file, cut back to where this append starts; opened at the first call.
    fn file(&mut self) -> std::io::Result<&mut std::fs::File> {
        if self.file.is_none() {
            let mut f = std::fs::OpenOptions::new().write(true).open(&self.path)?;
            f.set_len(self.pos)?;
            f.seek(SeekFrom::Start(self.pos))?;
            self.file = Some(f);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let pos = self.pos;
        let file = self.file()?;
        file.write_all(bytes)?;
        start_writeback(file, pos, bytes.len());
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Writes a batch of plaintext: as it is, or the segments it completes, sealed. The `last`
    /// batch also writes what the sealer holds back until the body ends.
    fn store(&mut self, batch: &[u8], last: bool) -> std::io::Result<()> {
        self.file()?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let result = match &mut self.sealer {
            None => self.write(batch),
            Some(sealer) => {
                sealer.seal(batch, &mut scratch);
                if last {
                    sealer.finish(&mut scratch);
                }
                self.write(&scratch)
            }
        };
        self.scratch = scratch;
        result
    }
}

/// The two lanes of an upload being appended to.
enum Lanes {
    /// Before the first batch (boxed: the sealer's state is large, the job handles small).
    Idle(Box<(Sink, Hasher)>),
    /// One job hashing and storing a small batch.
    Joint(JoinHandle<std::io::Result<(Sink, Hasher)>>),
    /// A batch being stored by one job and hashed by another.
    Split(JoinHandle<std::io::Result<Sink>>, JoinHandle<Hasher>),
    /// A store job failed: its sink (and the file) went with the error.
    Failed,
}

fn joined<T>(r: Result<T, tokio::task::JoinError>) -> std::io::Result<T> {
    r.map_err(std::io::Error::other)
}

impl Lanes {
    /// Waits for the batch in flight, if any, and takes the lanes' state.
    async fn settle(&mut self) -> std::io::Result<(Sink, Hasher)> {
        match std::mem::replace(self, Lanes::Failed) {
            Lanes::Idle(idle) => Ok(*idle),
            Lanes::Joint(job) => joined(job.await)?,
            Lanes::Split(store, hash) => {
                let hasher = joined(hash.await)?;
                let sink = joined(store.await)??;
                Ok((sink, hasher))
            }
            Lanes::Failed => Err(std::io::Error::other("upload write failed")),
        }
    }
}

struct Pipe {
    lanes: Lanes,
    /// The batch in flight (or just written), whose buffer is filled again once its jobs are
    /// done with it.
    spent: Option<Bytes>,
}

impl Pipe {
    /// Sends the filled `buf` off once the previous batch is done, and leaves `buf` empty: the
    /// previous batch's buffer when it can be reused, else a new one.
    async fn submit(&mut self, buf: &mut BytesMut, last: bool) -> std::io::Result<()> {
        let (mut sink, mut hasher) = self.lanes.settle().await?;
        let next = self
            .spent
            .take()
            .and_then(|b| b.try_into_mut().ok())
            .map(|mut b| {
                b.clear();
                b
            });
        let batch = match (last, next) {
            (true, _) => std::mem::take(buf),
            (false, Some(reused)) => std::mem::replace(buf, reused),
            (false, None) => std::mem::replace(buf, BytesMut::with_capacity(WRITE_BATCH)),
        }
        .freeze();
        self.spent = Some(batch.clone());
        self.lanes = if batch.len() < SPLIT_MIN {
            Lanes::Joint(tokio::task::spawn_blocking(move || {
                hasher.update(&batch);
                sink.store(&batch, last)?;
                Ok((sink, hasher))
            }))
        } else {
            let hashed = batch.clone();
            let hash = tokio::task::spawn_blocking(move || {
                hasher.update(&hashed);
                hasher
            });
            let store = tokio::task::spawn_blocking(move || {
                sink.store(&batch, last)?;
                Ok(sink)
            });
            Lanes::Split(store, hash)
        };
        Ok(())
    }
}

/// Appends `body` to the upload file at `path`, from `offset` on (whatever follows is cut away),
/// through `ingest`. When the body fails, the file is cut back to `offset`, so it leaves no
/// trace; when a write fails, the file goes with the error (the next append cuts it back to
/// where it resumes). A missing file is `UploadNotFound`.
pub(crate) async fn append(
    path: PathBuf,
    offset: u64,
    mut body: ByteStream,
    ingest: Ingest,
) -> Result<Appended, BlobError> {
    let (hasher, sealer, before) = ingest.into_parts();
    // Batches are exactly WRITE_BATCH bytes (a chunk is split across two when it straddles), so a
    // buffer never grows past it, and a written batch's buffer is filled again: two batch buffers
    // and one sealed output buffer are all an upload holds, however long. The last batch, sent
    // when the body ends, also writes the sealer's tail, even when the batch is empty.
    let mut pipe = Pipe {
        lanes: Lanes::Idle(Box::new((
            Sink {
                file: None,
                path,
                sealer,
                scratch: BytesMut::new(),
                pos: offset,
            },
            hasher,
        ))),
        spent: None,
    };
    let mut received = before;
    let mut buf = BytesMut::with_capacity(WRITE_BATCH);
    let mut failure: Option<BlobError> = None;
    'body: loop {
        match body.next().await {
            Some(Ok(chunk)) => {
                received += chunk.len() as u64;
                let mut rest = &chunk[..];
                while !rest.is_empty() {
                    let take = (WRITE_BATCH - buf.len()).min(rest.len());
                    buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if buf.len() == WRITE_BATCH {
                        if let Err(e) = pipe.submit(&mut buf, false).await {
                            failure = Some(e.into());
                            break 'body;
                        }
                    }
                }
            }
            Some(Err(e)) => {
                failure = Some(BlobError::Body(std::io::Error::new(
                    e.kind(),
                    e.to_string(),
                )));
                break;
            }
            None => {
                if let Err(e) = pipe.submit(&mut buf, true).await {
                    failure = Some(e.into());
                }
                break;
            }
        }
    }
    match (failure, pipe.lanes.settle().await) {
        (None, Ok((sink, hasher))) => Ok(Appended {
            size: sink.pos,
            ingest: Ingest::from_parts(hasher, sink.sealer, received),
        }),
        (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(BlobError::UploadNotFound)
        }
        // The last batch's write failed: its sink (and the file) went with the error.
        (None, Err(e)) => Err(e.into()),
        (Some(e), finished) => {
            if let Ok((mut sink, _)) = finished {
                // (Opening a file no batch reached also cuts it back.)
                let _ = tokio::task::spawn_blocking(move || sink.file()?.set_len(offset)).await;
            }
            Err(match e {
                BlobError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    BlobError::UploadNotFound
                }
                e => e,
            })
        }
    }
}
