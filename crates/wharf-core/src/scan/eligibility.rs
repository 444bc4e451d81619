//! What a read reports instead of the stored scan result: an archived image reads
//! IMAGE_ARCHIVED, and an image of an ENHANCED CONTINUOUS_SCAN repository that was neither
//! pushed, pulled nor scanned by request within the server's eligibility window reads
//! SCAN_ELIGIBILITY_EXPIRED (Amazon Inspector's ECR re-scan duration). Both are worked out at
//! read time from the image record, so the stored status and findings come back as they were
//! when the image is restored or pulled again; continuous rescans skip such images.

use super::{ScanStatus, ScanSummary};
use crate::{unix_now, CoreError, Registry, Repo};
use std::collections::HashMap;
use wharf_meta::ImageRecord;

const SECONDS_PER_DAY: i64 = 86_400;

/// The description an archived image's scan reads with.
pub(crate) const ARCHIVED_DESCRIPTION: &str =
    "The image is archived; restore it to see its scan results and to scan it again.";

/// Whether an image was last used (pushed, pulled, or a scan requested by hand or on push)
/// more than `days` days before `now`. A `days` of 0 is the lifetime window: never.
pub(crate) fn eligibility_expired(
    days: u32,
    image: &ImageRecord,
    requested_at: Option<i64>,
    now: i64,
) -> bool {
    if days == 0 {
        return false;
    }
    let last_used = image
        .pushed_at
        .max(image.last_pulled_at.unwrap_or(0))
        .max(requested_at.unwrap_or(0));
    last_used.saturating_add(i64::from(days) * SECONDS_PER_DAY) < now
}

/// The description of an expired image's scan, naming the window.
fn expired_description(days: u32) -> String {
    format!(
        "The image was not pushed, pulled or scanned by request in the last {days} days, the scan eligibility window of continuous scanning; pull it or start a scan to make it eligible again."
    )
}

/// Replaces a summary's stored status with one its image's state implies; the findings it
/// counted are no longer reported.
fn overlay(summary: &mut ScanSummary, status: ScanStatus, description: String) {
    summary.status = status;
    summary.description = Some(description);
    summary.severity_counts.clear();
}

impl Registry {
    /// Sets the days an image of a continuously scanned repository stays eligible for rescans
    /// after its last push or pull (0, the default: for its lifetime).
    pub fn with_scan_eligibility_days(mut self, days: u32) -> Registry {
        self.scan_eligibility_days = days;
        self
    }

    /// The scan eligibility window in days (0: lifetime).
    pub fn scan_eligibility_days(&self) -> u32 {
        self.scan_eligibility_days
    }

    /// Whether continuous scanning may rescan `image` now: not archived, and within the
    /// eligibility window (`requested_at` is its scan's last request).
    pub(crate) fn rescan_eligible(&self, image: &ImageRecord, requested_at: Option<i64>) -> bool {
        image.status != "ARCHIVED"
            && !eligibility_expired(self.scan_eligibility_days, image, requested_at, unix_now())
    }

    /// Applies the read-time statuses to summaries of `repo`'s images: IMAGE_ARCHIVED for
    /// archived images, SCAN_ELIGIBILITY_EXPIRED for COMPLETE scans of images past the window
    /// when the repository is scanned continuously. `requested` gives each scan's last request.
    pub(crate) async fn read_time_statuses(
        &self,
        repo: &Repo,
        summaries: &mut HashMap<wharf_oci::Digest, ScanSummary>,
        images: &[&ImageRecord],
        requested: &HashMap<wharf_oci::Digest, i64>,
    ) -> Result<(), CoreError> {
        let now = unix_now();
        let mut continuous = None;
        for image in images {
            let Some(summary) = summaries.get_mut(&image.digest) else {
                continue;
            };
            if image.status == "ARCHIVED" {
                overlay(
                    summary,
                    ScanStatus::ImageArchived,
                    ARCHIVED_DESCRIPTION.to_string(),
                );
                continue;
            }
            let days = self.scan_eligibility_days;
            if summary.status != ScanStatus::Complete
                || !eligibility_expired(days, image, requested.get(&image.digest).copied(), now)
            {
                continue;
            }
            // The repository's configuration is read once, and only when some image is past
            // the window.
            let scanned = match continuous {
                Some(c) => c,
                None => {
                    let c = self
                        .continuously_scanned(
                            repo.account.as_str(),
                            repo.name.as_str(),
                            &mut HashMap::new(),
                        )
                        .await?;
                    continuous = Some(c);
                    c
                }
            };
            if scanned {
                overlay(
                    summary,
                    ScanStatus::ScanEligibilityExpired,
                    expired_description(days),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(pushed_at: i64, last_pulled_at: Option<i64>) -> ImageRecord {
        ImageRecord {
            digest: wharf_oci::Digest::sha256(b"x"),
            media_type: String::new(),
            artifact_type: None,
            image_size: 0,
            pushed_at,
            last_pulled_at,
            subject: None,
            tags: Vec::new(),
            status: "ACTIVE".into(),
            archived_at: None,
            activated_at: None,
        }
    }

    #[test]
    fn the_window_counts_from_the_latest_push_pull_or_request() {
        let day = SECONDS_PER_DAY;
        let now = 100 * day;
        let check = |days: u32,
                     pushed: i64,
                     pulled: Option<i64>,
                     requested: Option<i64>,
                     expected: bool| {
            assert_eq!(
                eligibility_expired(days, &image(pushed, pulled), requested, now),
                expected,
                "{days} days, pushed {pushed}, pulled {pulled:?}, requested {requested:?}"
            );
        };
        check(0, 0, None, None, false);
        check(30, 69 * day, None, None, true);
        check(30, 70 * day, None, None, false);
        check(30, 70 * day - 1, None, None, true);
        check(30, 0, Some(80 * day), None, false);
        check(30, 0, Some(60 * day), Some(75 * day), false);
        check(30, 0, Some(60 * day), Some(65 * day), true);
        check(u32::MAX, 0, None, None, false);
    }
}
