//! Timestamps in the two shapes SigV4 uses: the ISO 8601 basic form of `X-Amz-Date`
//! (`20250102T030405Z`) and the HTTP `Date` header, plus the skew wording of AWS error messages.

use std::time::Duration;

use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const AMZ_DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Parses `YYYYMMDDTHHMMSSZ`, the only form `X-Amz-Date` may take.
pub(crate) fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    if value.len() != 16 {
        return None;
    }
    PrimitiveDateTime::parse(value, AMZ_DATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Parses an HTTP `Date` header. botocore writes `Thu, 02 Jan 2025 03:04:05 -0000` (RFC 2822) and
/// HTTP clients write `... GMT` (IMF-fixdate); the RFC 2822 parser accepts both.
///
/// The time is returned in UTC, and refused when UTC is outside the representable years
/// (`Fri, 31 Dec 9999 23:59:59 -2359` is in year 10000 in UTC), so formatting it never fails.
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc2822)
        .ok()?
        .checked_to_offset(UtcOffset::UTC)
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` in UTC, whatever offset it carries.
pub(crate) fn format_amz_date(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(AMZ_DATE)
        .expect("a UTC time with a four-digit year always formats")
}

/// Formats a time as botocore writes a `Date` header (`email.utils.formatdate`):
/// `Thu, 02 Jan 2025 03:04:05 -0000`.
pub(crate) fn format_http_date(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] -0000"
        ))
        .expect("a UTC time with a four-digit year always formats")
}

/// Describes a duration the way AWS messages do: `15 min.` when it is whole minutes, else seconds.
pub(crate) fn describe(d: Duration) -> String {
    let secs = d.as_secs();
    let (minutes, rest) = (secs / 60, secs % 60);
    if rest == 0 {
        format!("{minutes} min.")
    } else {
        format!("{secs} sec.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `tests/props.rs`: a `Date` whose offset pushes it past year 9999 in UTC made
    /// `format_amz_date` panic (a dropped connection on `POST /`).
    #[test]
    fn dates_beyond_the_representable_years_are_refused() {
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 -2359"), None);
        let t = parse_http_date("Fri, 31 Dec 9999 00:00:00 -2359").unwrap();
        assert_eq!(format_amz_date(t), "99991231T235900Z");
        let t = parse_http_date("Thu, 02 Jan 2025 03:04:05 +0100").unwrap();
        assert_eq!(format_amz_date(t), "20250102T020405Z");
    }
}
