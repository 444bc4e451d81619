//! Reading sealed blobs: one segment, or a plaintext byte range streamed out of the stored
//! segments that cover it.
//!
//! A reader gets authenticated plaintext or an error, never bytes that failed authentication:
//! each segment is decrypted whole before any of it is yielded, and a stream that ends early or
//! carries bytes past the range fails with `InvalidData`.

use super::format::{segment_offset, OVERHEAD, SEGMENT};
use super::key::DataKey;
use super::SealError;
use crate::ByteStream;
use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use ring::aead::{Aad, Nonce, NONCE_LEN};
use std::sync::Arc;

/// Decrypts segment `index` (`nonce || ciphertext || tag`) to its plaintext.
pub fn open_segment(key: &DataKey, index: u64, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    check_len(sealed.len())?;
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let mut buf = rest.to_vec();
    let n = open_in_place(key, index, nonce, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Which stored bytes hold the plaintext range `[offset, offset + len)` of a blob of
/// `plain_total` bytes: the first segment's index and the stored byte range `[start, end)` of
/// the segments covering it. A range reaching past the blob is cut at its end.
pub fn sealed_range(plain_total: u64, offset: u64, len: u64) -> (u64, u64, u64) {
    let first = offset / SEGMENT;
    let start = segment_offset(first);
    let len = len.min(plain_total.saturating_sub(offset));
    if len == 0 {
        return (first, start, start);
    }
    let last = (offset + len - 1) / SEGMENT;
    (
        first,
        start,
        segment_offset(last) + segment_plain_len(plain_total, last) + OVERHEAD,
    )
}

/// Streams the plaintext bytes `[offset, offset + len)` of a blob of `plain_total` bytes out of
/// `sealed`, the stored bytes from `segment_offset(first)` (see [`sealed_range`]). Segments are
/// decrypted as they arrive, holding at most one segment and one input chunk, and the whole
/// segments of each chunk are yielded as one piece. Any
/// authentication failure, early end or extra byte within the range is an `InvalidData` error;
/// errors of the underlying stream pass through.
pub fn open_range(
    sealed: ByteStream,
    key: Arc<DataKey>,
    plain_total: u64,
    offset: u64,
    len: u64,
) -> ByteStream {
    if offset.checked_add(len).is_none_or(|end| end > plain_total) {
        let e = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("range {offset}+{len} is outside the blob's {plain_total} bytes"),
        );
        return Box::pin(futures::stream::iter([Err(e)]));
    }
    let opener = Opener {
        input: sealed,
        buf: BytesMut::new(),
        pending: None,
        key,
        plain_total,
        index: offset / SEGMENT,
        skip: (offset % SEGMENT) as usize,
        remaining: len,
        done: false,
    };
    Box::pin(futures::stream::unfold(opener, |mut o| async move {
        if o.done {
            return None;
        }
        let item = o.next_piece().await;
        o.done = !matches!(item, Ok(Some(_)));
        match item {
            Ok(Some(bytes)) => Some((Ok(bytes), o)),
            Ok(None) => None,
            Err(e) => Some((Err(e), o)),
        }
    }))
}

/// The state of an `open_range` stream.
struct Opener {
    input: ByteStream,
    /// Stored bytes received and not yet decrypted (less than one segment, plus one chunk).
    buf: BytesMut,
    /// The rest of an input chunk whose first bytes completed the segment in `buf`.
    pending: Option<Bytes>,
    key: Arc<DataKey>,
    plain_total: u64,
    /// The next segment to decrypt.
    index: u64,
    /// Plaintext bytes of segment `index` before the range.
    skip: usize,
    /// Plaintext bytes of the range still to yield.
    remaining: u64,
    done: bool,
}

impl Opener {
    /// The plaintext of the range within the next segments: every whole segment the buffered
    /// input holds (at least one), decrypted in place and compacted to the front of the buffer,
    /// so a read chunk of several segments becomes one piece, not one per segment. `None` once
    /// the range is complete.
    async fn next_piece(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.remaining == 0 {
            return self.expect_end().await.map(|()| None);
        }
        let want = self.stored_len(self.index);
        while self.buf.len() < want {
            let next = match self.pending.take() {
                Some(chunk) => Some(Ok(chunk)),
                None => self.input.next().await,
            };
            match next {
                // A chunk no one else holds becomes the buffer as it is, without a copy.
                Some(Ok(chunk)) if self.buf.is_empty() => {
                    self.buf = chunk
                        .try_into_mut()
                        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
                }
                // The rest of a segment begun in the last chunk: copy just what completes it
                // into a buffer of its own and keep the remainder of the chunk whole for the
                // next piece. (Appending the chunk to the tail would copy all of it, into a
                // second buffer as large as the first: two large allocations of different
                // sizes per chunk, which fragment the heap.)
                Some(Ok(mut chunk)) => {
                    let need = want - self.buf.len();
                    if chunk.len() <= need {
                        self.buf.extend_from_slice(&chunk);
                        continue;
                    }
                    let mut segment = BytesMut::with_capacity(want);
                    segment.extend_from_slice(&self.buf);
                    segment.extend_from_slice(&chunk[..need]);
                    chunk.advance(need);
                    self.buf = segment;
                    self.pending = Some(chunk);
                }
                Some(Err(e)) => return Err(e),
                None => return Err(failed(self.index, SealError::Truncated)),
            }
        }
        // `read`: stored bytes decrypted so far; `out`: plaintext bytes compacted to the front.
        let (mut read, mut out) = (0usize, 0usize);
        while self.remaining > 0 {
            let want = self.stored_len(self.index);
            if self.buf.len() - read < want {
                break;
            }
            let (nonce, body) = self.buf[read..read + want].split_at_mut(NONCE_LEN);
            let n = open_in_place(&self.key, self.index, nonce, body)
                .map_err(|e| failed(self.index, e))?;
            let skip = std::mem::take(&mut self.skip);
            let take = (n.saturating_sub(skip) as u64).min(self.remaining) as usize;
            let from = read + NONCE_LEN + skip;
            self.buf.copy_within(from..from + take, out);
            out += take;
            read += want;
            self.remaining -= take as u64;
            self.index += 1;
        }
        let mut done = self.buf.split_to(read);
        done.truncate(out);
        if self.remaining == 0 {
            // The range is whole only if nothing follows it: check before yielding its end.
            self.expect_end().await?;
        }
        Ok(Some(done.freeze()))
    }

    /// Stored bytes of segment `index`: nonce, ciphertext, tag.
    fn stored_len(&self, index: u64) -> usize {
        (segment_plain_len(self.plain_total, index) + OVERHEAD) as usize
    }

    /// Fails unless the input has no bytes left.
    async fn expect_end(&mut self) -> std::io::Result<()> {
        let mut extra = !self.buf.is_empty() || self.pending.take().is_some_and(|p| !p.is_empty());
        while !extra {
            match self.input.next().await {
                Some(Ok(chunk)) => extra = !chunk.is_empty(),
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the blob's ciphertext failed authentication: bytes follow the last segment read",
        ))
    }
}

/// Plaintext bytes in segment `index` of a blob of `plain_total` bytes.
fn segment_plain_len(plain_total: u64, index: u64) -> u64 {
    plain_total.saturating_sub(index * SEGMENT).min(SEGMENT)
}

fn failed(index: u64, e: SealError) -> std::io::Error {
    let detail = match e {
        SealError::Tampered => "it was modified, moved or sealed under another key".to_string(),
        SealError::Truncated => "the stored bytes end inside it".to_string(),
        SealError::BadHeader(why) => why,
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the blob's ciphertext failed authentication at segment {index}: {detail}"),
    )
}

fn check_len(sealed: usize) -> Result<(), SealError> {
    if sealed <= OVERHEAD as usize {
        Err(SealError::Truncated)
    } else if sealed > (SEGMENT + OVERHEAD) as usize {
        Err(SealError::Tampered)
    } else {
        Ok(())
    }
}

/// Decrypts `body` (`ciphertext || tag`) in place; returns the plaintext length at its start.
fn open_in_place(
    key: &DataKey,
    index: u64,
    nonce: &[u8],
    body: &mut [u8],
) -> Result<usize, SealError> {
    check_len(nonce.len() + body.len())?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Truncated)?;
    let aad = Aad::from(super::aad(key.id(), index));
    key.aead()
        .open_in_place(nonce, aad, body)
        .map(|plain| plain.len())
        .map_err(|_| SealError::Tampered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{sealed_len, DataKey, Sealer};

    fn sealed(key: &Arc<DataKey>, data: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut s = Sealer::at_start(key.clone());
        s.seal(data, &mut out);
        s.finish(&mut out);
        out.to_vec()
    }

    /// The stored bytes `[start, end)` as a stream of `chunk`-sized pieces.
    fn stream(stored: &[u8], start: u64, end: u64, chunk: usize) -> ByteStream {
        let parts: Vec<_> = stored[start as usize..end as usize]
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Box::pin(futures::stream::iter(parts))
    }

    async fn read(s: ByteStream) -> std::io::Result<Vec<u8>> {
        let mut s = s;
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    #[test]
    fn sealed_range_covers_exactly_the_needed_segments() {
        let s = SEGMENT;
        let total = 2 * s + 10;
        let seg = |i| segment_offset(i);
        assert_eq!(sealed_range(total, 0, 1), (0, seg(0), seg(1)));
        assert_eq!(sealed_range(total, s - 1, 2), (0, seg(0), seg(2)));
        assert_eq!(sealed_range(total, s, s), (1, seg(1), seg(2)));
        assert_eq!(
            sealed_range(total, 0, total),
            (0, seg(0), sealed_len(total))
        );
        assert_eq!(
            sealed_range(total, 2 * s + 9, 1),
            (2, seg(2), sealed_len(total))
        );
        assert_eq!(sealed_range(total, 5, 0), (0, seg(0), seg(0)));
        assert_eq!(sealed_range(0, 0, 0), (0, 32, 32));
        assert_eq!(
            sealed_range(total, s, 10 * s),
            (1, seg(1), sealed_len(total)),
            "cut at the end"
        );
    }

    #[tokio::test]
    async fn ranges_decrypt_whatever_the_input_chunking() {
        let key = Arc::new(DataKey::generate().0);
        let data: Vec<u8> = (0..5 * SEGMENT as usize + 100)
            .map(|i| (i % 251) as u8)
            .collect();
        let stored = sealed(&key, &data);
        let total = data.len() as u64;
        // Chunks of 100_000 and 200_000 bytes end inside segments: the segment they begin is
        // completed from the next chunk (see `pending`).
        for (offset, len) in [
            (0, total),
            (1, 10),
            (SEGMENT - 1, 2),
            (SEGMENT, 100),
            (SEGMENT / 2, SEGMENT + 200),
            (5, total - 10),
            (0, 0),
        ] {
            let (_, start, end) = sealed_range(total, offset, len);
            for chunk in [1000, 65_564, 100_000, 200_000, 1 << 20] {
                let got = read(open_range(
                    stream(&stored, start, end, chunk),
                    key.clone(),
                    total,
                    offset,
                    len,
                ))
                .await
                .unwrap();
                assert!(
                    got == data[offset as usize..(offset + len) as usize],
                    "{offset}+{len}/{chunk}"
                );
            }
        }
        let outside = read(open_range(stream(&stored, 0, 0, 1), key, total, total, 1)).await;
        assert_eq!(
            outside.unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }

    #[tokio::test]
    async fn wrong_key_short_and_long_inputs_fail_as_invalid_data() {
        let key = Arc::new(DataKey::generate().0);
        let data = vec![7u8; SEGMENT as usize + 1];
        let stored = sealed(&key, &data);
        let total = data.len() as u64;
        let end = stored.len() as u64;
        let other = Arc::new(DataKey::generate().0);
        let mut longer = stored.clone();
        longer.push(0);
        for (what, input, key) in [
            ("wrong key", stream(&stored, 32, end, 4096), other),
            ("short", stream(&stored, 32, end - 1, 4096), key.clone()),
            ("long", stream(&longer, 32, end + 1, 4096), key.clone()),
        ] {
            let err = read(open_range(input, key, total, 0, total))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{what}");
            assert!(
                err.to_string().contains("failed authentication"),
                "{what}: {err}"
            );
        }
        assert_eq!(
            open_segment(&key, 1, &stored[..28]),
            Err(SealError::Truncated)
        );
        assert_eq!(
            open_segment(&key, 0, &stored[32..32 + SEGMENT as usize + 28]).unwrap(),
            data[..SEGMENT as usize]
        );
        assert_eq!(
            open_segment(&key, 1, &stored[32..32 + SEGMENT as usize + 28]),
            Err(SealError::Tampered),
            "a segment read at another index"
        );
    }
}
