//! RPM header blobs as the sqlite rpmdb stores them (`headerExport` form): a big-endian index
//! count and data length, that many 16-byte index entries `{tag, type, offset, count}`, then the
//! data store the offsets point into. Every offset and length is checked against the blob, so a
//! hostile header yields an error, never a panic or a large allocation.

/// RPM tag numbers this cataloger reads.
pub(super) mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const SOURCERPM: u32 = 1044;
}

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own bound on index entries (`HEADER_TAGS_MAX`).
const MAX_ENTRIES: u32 = 0xffff;
/// rpm's own bound on the data store (`HEADER_DATA_MAX`, 256 MiB).
const MAX_DATA: u32 = 0x0fff_ffff;
/// The header magic some writers keep in front of the index (`8e ad e8 01`, then 4 reserved).
const MAGIC: [u8; 4] = [0x8e, 0xad, 0xe8, 0x01];

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

/// A parsed header, borrowing the blob's data store.
#[derive(Debug)]
pub(super) struct Header<'a> {
    entries: Vec<Entry>,
    store: &'a [u8],
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([word[0], word[1], word[2], word[3]]))
}

impl<'a> Header<'a> {
    /// Parses the index of a header blob.
    pub fn parse(blob: &'a [u8]) -> Result<Header<'a>, String> {
        let blob = match blob.get(..4) {
            Some(head) if head == MAGIC => blob.get(8..).unwrap_or_default(),
            _ => blob,
        };
        let (Some(count), Some(data_len)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(format!("header of {} bytes is too short", blob.len()));
        };
        if count > MAX_ENTRIES {
            return Err(format!("header claims {count} index entries"));
        }
        if data_len > MAX_DATA {
            return Err(format!("header claims {data_len} bytes of data"));
        }
        // Both are bounded above, so this arithmetic cannot overflow.
        let index_end = 8 + count as usize * 16;
        let data_end = index_end + data_len as usize;
        let Some(store) = blob.get(index_end..data_end) else {
            return Err(format!(
                "header is truncated: {} bytes, its index and data need {data_end}",
                blob.len()
            ));
        };
        let mut entries = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let at = 8 + i * 16;
            let field = |n: usize| be32(blob, at + n * 4).unwrap_or(0);
            entries.push(Entry {
                tag: field(0),
                kind: field(1),
                offset: field(2),
                count: field(3),
            });
        }
        Ok(Header { entries, store })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// A string tag (for arrays and i18n tables, the first string), or `None` when absent.
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(
            entry.kind,
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING
        ) || entry.count == 0
        {
            return Err(format!(
                "tag {tag} has type {} and count {}, not a string",
                entry.kind, entry.count
            ));
        }
        let start = entry.offset as usize;
        let Some(rest) = self.store.get(start..) else {
            return Err(format!("tag {tag} points past the header data"));
        };
        let Some(end) = rest.iter().position(|&b| b == 0) else {
            return Err(format!("tag {tag}'s string is not terminated"));
        };
        let bytes = rest.get(..end).unwrap_or_default();
        Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
    }

    /// A 32-bit integer tag (the first value), or `None` when absent.
    pub fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if entry.kind != TYPE_INT32 || entry.count == 0 {
            return Err(format!(
                "tag {tag} has type {} and count {}, not an int32",
                entry.kind, entry.count
            ));
        }
        be32(self.store, entry.offset as usize)
            .map(Some)
            .ok_or_else(|| format!("tag {tag} points past the header data"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a header with string tags, then one int32 tag.
    fn encode(strings: &[(u32, &str)], int: Option<(u32, u32)>) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        let mut count = 0u32;
        if let Some((tag, value)) = int {
            for word in [tag, TYPE_INT32, store.len() as u32, 1] {
                index.extend(word.to_be_bytes());
            }
            store.extend(value.to_be_bytes());
            count += 1;
        }
        for (tag, value) in strings {
            for word in [*tag, TYPE_STRING, store.len() as u32, 1] {
                index.extend(word.to_be_bytes());
            }
            store.extend(value.as_bytes());
            store.push(0);
            count += 1;
        }
        let mut blob = Vec::new();
        blob.extend(count.to_be_bytes());
        blob.extend((store.len() as u32).to_be_bytes());
        blob.extend(index);
        blob.extend(store);
        blob
    }

    #[test]
    fn reads_strings_and_ints() {
        let blob = encode(
            &[(tag::NAME, "bash"), (tag::VERSION, "5.1")],
            Some((tag::EPOCH, 2)),
        );
        let header = Header::parse(&blob).unwrap();
        assert_eq!(header.string(tag::NAME).unwrap().as_deref(), Some("bash"));
        assert_eq!(header.string(tag::VERSION).unwrap().as_deref(), Some("5.1"));
        assert_eq!(header.string(tag::ARCH).unwrap(), None);
        assert_eq!(header.int32(tag::EPOCH).unwrap(), Some(2));
        assert!(header.int32(tag::NAME).is_err());
        assert!(header.string(tag::EPOCH).is_err());

        let mut with_magic = vec![0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
        with_magic.extend(&blob);
        let header = Header::parse(&with_magic).unwrap();
        assert_eq!(header.string(tag::NAME).unwrap().as_deref(), Some("bash"));
    }

    #[test]
    fn hostile_headers_are_errors() {
        let blob = encode(&[(tag::NAME, "bash")], None);
        assert_eq!(
            Header::parse(&blob[..blob.len() - 1]).unwrap_err(),
            "header is truncated: 28 bytes, its index and data need 29"
        );
        assert_eq!(
            Header::parse(&[0, 0]).unwrap_err(),
            "header of 2 bytes is too short"
        );
        assert_eq!(
            Header::parse(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]).unwrap_err(),
            "header claims 4294967295 index entries"
        );
        assert_eq!(
            Header::parse(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).unwrap_err(),
            "header claims 4294967295 bytes of data"
        );

        // An offset past the store, and a string without its terminator.
        let mut bad = encode(&[(tag::NAME, "bash")], None);
        bad[8 + 8..8 + 12].copy_from_slice(&100u32.to_be_bytes());
        let header = Header::parse(&bad).unwrap();
        assert_eq!(
            header.string(tag::NAME).unwrap_err(),
            "tag 1000 points past the header data"
        );
        let mut unterminated = encode(&[(tag::NAME, "bash")], None);
        let last = unterminated.len() - 1;
        unterminated[last] = b'x';
        let header = Header::parse(&unterminated).unwrap();
        assert_eq!(
            header.string(tag::NAME).unwrap_err(),
            "tag 1000's string is not terminated"
        );
    }
}
