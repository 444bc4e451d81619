//! Streams a byte range of a local file as `Bytes` chunks, each read by one blocking call straight
//! into the buffer it is yielded in.
//!
//! `tokio::fs::File` behind `ReaderStream` reads into the file's own buffer on the blocking pool
//! and then copies into the stream's: two buffers per chunk in memory and one memcpy per byte.
//! Here each chunk is a fresh `Vec` filled by `read_to_end` (std's `File` reads into the spare
//! capacity without zeroing it), handed over as `Bytes` without a copy, and unique, so the sealed
//! read path decrypts it in place.

use crate::ByteStream;
use bytes::Bytes;
use futures::StreamExt;
use std::fs::File;
use std::io::Read;

/// A stream of `[offset, offset + len)` of `file` in chunks of at most `chunk` bytes (the file's
/// cursor must be at `offset`). A file shorter than the range ends the stream early.
pub(crate) fn stream(file: File, len: u64, chunk: usize) -> ByteStream {
    let state = Some((file, len));
    let chunks = futures::stream::unfold(state, move |state| async move {
        let (file, left) = state?;
        if left == 0 {
            return None;
        }
        let want = left.min(chunk as u64);
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(want as usize);
            let got = (&file).take(want).read_to_end(&mut buf).map(|_| buf);
            (file, got)
        })
        .await;
        match read {
            Ok((file, Ok(buf))) => {
                let got = buf.len() as u64;
                // A file shorter than the range ends the stream there, as `take` would: what
                // reads it checks the length (a sealed read fails authentication, a body its
                // Content-Length).
                let rest = (got == want).then_some((file, left - want));
                (got > 0).then(|| (Ok(Bytes::from(buf)), rest))
            }
            Ok((_, Err(e))) => Some((Err(e), None)),
            Err(join) => Some((Err(std::io::Error::other(join)), None)),
        }
    });
    // Fused: a consumer may poll again after the end (ReaderStream allowed it too).
    Box::pin(chunks.fuse())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::io::{Seek, SeekFrom, Write};

    fn file_of(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(bytes).unwrap();
        let f = File::open(tmp.path()).unwrap();
        (tmp, f)
    }

    #[tokio::test]
    async fn yields_the_range_in_chunks() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (_tmp, mut f) = file_of(&data);
        f.seek(SeekFrom::Start(100)).unwrap();
        let chunks: Vec<Bytes> = stream(f, 5_000, 4096).try_collect().await.unwrap();
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [4096, 904]
        );
        assert_eq!(chunks.concat(), data[100..5_100]);
    }

    #[tokio::test]
    async fn a_short_file_ends_the_stream_where_it_ends() {
        let (_tmp, f) = file_of(&[7u8; 1000]);
        let mut s = stream(f, 1500, 512);
        let mut got = Vec::new();
        while let Some(chunk) = s.next().await {
            got.push(chunk.unwrap().len());
        }
        assert_eq!(got, [512, 488]);
        assert!(
            s.next().await.is_none(),
            "polling after the end stays at the end"
        );
    }

    #[tokio::test]
    async fn chunks_are_unique_so_they_can_be_decrypted_in_place() {
        let (_tmp, f) = file_of(&[1u8; 300]);
        let chunks: Vec<Bytes> = stream(f, 300, 128).try_collect().await.unwrap();
        assert!(chunks.into_iter().all(|c| c.try_into_mut().is_ok()));
    }
}
