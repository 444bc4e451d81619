//! Scan results as the API reads them: starting a scan by hand (StartImageScan), a scan's
//! findings a page at a time (DescribeImageScanFindings), and summaries of many images at once
//! (DescribeImages).

use super::pipeline::{classify, Scannable};
use super::{
    severity_rank, ImageScanReport, ScanFinding, ScanStatus, ScanSummary, ScanType, Severity,
};
use crate::images::{ImageId, ImageResult};
use crate::job_kind::JobKind;
use crate::{CoreError, Registry, Repo};
use base64::Engine;
use std::collections::HashMap;
use wharf_meta::{ImageRecord, ScanRecord};
use wharf_oci::{Digest, Manifest, Reference};

/// Most findings one page holds (DescribeImageScanFindings' maxResults).
pub const MAX_FINDINGS_PAGE: usize = 1000;

/// The queue entry scanning `digest` of `repo`; its dedupe key keeps one unfinished scan per
/// image.
pub(crate) fn scan_job(repo: &Repo, digest: &Digest) -> wharf_meta::NewJob {
    JobKind::ImageScan {
        account: repo.account.to_string(),
        repository: repo.name.to_string(),
        digest: digest.to_string(),
    }
    .new_job()
    .dedupe(format!("image_scan:{}@{digest}", repo.qualified()))
}

/// The queue entry re-matching `digest` of `repo` after an import.
pub(crate) fn rescan_job(repo: &Repo, digest: &Digest) -> wharf_meta::NewJob {
    JobKind::Rescan {
        account: repo.account.to_string(),
        repository: repo.name.to_string(),
        digest: digest.to_string(),
    }
    .new_job()
    .dedupe(format!("rescan:{}@{digest}", repo.qualified()))
}

/// The summary a stored scan gives.
fn summary(record: &ScanRecord) -> Result<ScanSummary, CoreError> {
    let corrupt = |what: &str| CoreError::Internal(format!("stored scan {what} is corrupt"));
    let status = ScanStatus::parse(&record.status).ok_or_else(|| corrupt("status"))?;
    let mut severity_counts = Vec::new();
    if status == ScanStatus::Complete {
        if let Some(json) = &record.severity_counts {
            let map: HashMap<String, u64> =
                serde_json::from_str(json).map_err(|_| corrupt("counts"))?;
            for (name, n) in map {
                let s: Severity = serde_json::from_value(serde_json::Value::String(name))
                    .map_err(|_| corrupt("counts"))?;
                severity_counts.push((s, n));
            }
            severity_counts.sort_by_key(|(s, _)| severity_rank(*s));
        }
    }
    Ok(ScanSummary {
        status,
        description: record.description.clone(),
        scan_type: ScanType::parse(&record.scan_type).unwrap_or_default(),
        completed_at: record.completed_at,
        vulnerability_source_updated_at: record.source_updated_at,
        severity_counts,
    })
}

/// The opaque page token for the finding at `offset`.
fn page_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("findings:{offset}"))
}

fn page_offset(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("findings:")?
        .parse()
        .ok()
}

impl Registry {
    /// StartImageScan: records IN_PROGRESS and queues the scan in one transaction (a scan
    /// already queued and waiting to retry is made due now). `Ok(Err(_))` when `id` names no
    /// image; `UnsupportedImageType` for an index or an artifact; `ImageArchived` for an
    /// archived image.
    pub async fn start_image_scan(
        &self,
        repo: &Repo,
        id: &ImageId,
    ) -> ImageResult<(ImageRecord, ScanStatus)> {
        let image = match self.resolve_image(repo, id).await? {
            Ok(i) => i,
            Err(f) => return Ok(Err(f)),
        };
        if image.status == "ARCHIVED" {
            return Err(CoreError::ImageArchived(format!(
                "The image with digest '{}' in the repository with name '{}' in the registry with id '{}' is archived and cannot be scanned; restore it first.",
                image.digest, repo.name, repo.account
            )));
        }
        let stored = self
            .meta
            .get_manifest(repo.key(), &Reference::Digest(image.digest.clone()))
            .await?
            .ok_or(CoreError::ManifestUnknown)?;
        let why = match Manifest::parse(&stored.body, Some(&stored.media_type)) {
            Ok(m) => match classify(&m) {
                Scannable::Layers(_) => None,
                Scannable::Unsupported(why) => Some(why),
            },
            Err(e) => Some(format!("The image manifest could not be read: {e}.")),
        };
        if let Some(why) = why {
            return Err(CoreError::UnsupportedImageType(format!(
                "The image with digest '{}' is not supported for scanning. {why}",
                image.digest
            )));
        }
        let scan_type = self.scan_type(repo).await?;
        // One transaction: the image never shows IN_PROGRESS without a job to end it, and a
        // queued scan waiting out a retry backoff is made due now.
        if !self
            .meta
            .request_scan(
                repo.key(),
                &image.digest,
                ScanStatus::InProgress.as_str(),
                scan_type.as_str(),
                &scan_job(repo, &image.digest),
            )
            .await?
        {
            return Err(CoreError::ManifestUnknown);
        }
        Ok(Ok((image, ScanStatus::InProgress)))
    }

    /// A scan's summary and one page of its findings (only a COMPLETE scan has findings; an
    /// archived or expired image reads IMAGE_ARCHIVED or SCAN_ELIGIBILITY_EXPIRED without them).
    /// `token` is a previous report's `next_token`; `max_results` is clamped to 1..=1000.
    /// `ScanNotFound` if the image was never scanned; `InvalidParameter` for a bad token.
    pub async fn image_scan(
        &self,
        repo: &Repo,
        digest: &Digest,
        token: Option<&str>,
        max_results: usize,
    ) -> Result<ImageScanReport, CoreError> {
        let Some(record) = self.meta.image_scan(repo.key(), digest).await? else {
            // Tell a missing repository apart from a missing scan.
            self.repository(repo).await?;
            return Err(CoreError::ScanNotFound(format!(
                "Image scan does not exist for the image with '{{imageDigest:{digest}}}' in the repository with name '{}' in the registry with id '{}'",
                repo.name, repo.account
            )));
        };
        let mut summary = summary(&record)?;
        // An archived or expired image reads its read-time status, without findings.
        if let Some(image) = self.meta.image(repo.key(), digest).await? {
            let mut one = HashMap::from([(digest.clone(), summary)]);
            let requested = HashMap::from([(digest.clone(), record.requested_at)]);
            self.read_time_statuses(repo, &mut one, &[&image], &requested)
                .await?;
            summary = one
                .remove(digest)
                .ok_or_else(|| CoreError::Internal("scan summary lost".into()))?;
        }
        let offset = match token {
            Some(t) => page_offset(t)
                .filter(|o| *o <= record.finding_count.max(0) as usize)
                .ok_or_else(|| {
                    CoreError::InvalidParameter(
                        "Invalid parameter at 'nextToken': the token is not valid for this scan."
                            .into(),
                    )
                })?,
            None => 0,
        };
        let limit = max_results.clamp(1, MAX_FINDINGS_PAGE);
        let mut findings = Vec::new();
        let mut next_token = None;
        if summary.status == ScanStatus::Complete {
            if let Some(json) = &record.findings {
                let all: Vec<ScanFinding> = serde_json::from_str(json)
                    .map_err(|e| CoreError::Internal(format!("stored findings: {e}")))?;
                let end = offset.saturating_add(limit).min(all.len());
                if end < all.len() {
                    next_token = Some(page_token(end));
                }
                findings = all
                    .into_iter()
                    .skip(offset)
                    .take(end.saturating_sub(offset))
                    .collect();
            }
        }
        Ok(ImageScanReport {
            summary,
            findings,
            next_token,
        })
    }

    /// Summaries of many images of one repository in one query; images never scanned are
    /// absent. Archived images and images past the scan eligibility window read their
    /// read-time status (`eligibility.rs`).
    pub async fn scan_summaries(
        &self,
        repo: &Repo,
        images: &[ImageRecord],
    ) -> Result<HashMap<Digest, ScanSummary>, CoreError> {
        let digests: Vec<Digest> = images.iter().map(|i| i.digest.clone()).collect();
        let records = self.meta.scan_summaries(repo.key(), &digests).await?;
        let requested: HashMap<Digest, i64> = records
            .iter()
            .map(|r| (r.digest.clone(), r.requested_at))
            .collect();
        let mut summaries = records
            .iter()
            .map(|r| Ok((r.digest.clone(), summary(r)?)))
            .collect::<Result<HashMap<_, _>, CoreError>>()?;
        let images: Vec<&ImageRecord> = images.iter().collect();
        self.read_time_statuses(repo, &mut summaries, &images, &requested)
            .await?;
        Ok(summaries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        for offset in [0, 1, 100, 123_456] {
            assert_eq!(page_offset(&page_token(offset)), Some(offset));
        }
        for bad in ["", "!!", "ZmluZGluZ3M6", "eHl6OjE", "ZmluZGluZ3M6LTE"] {
            assert_eq!(page_offset(bad), None, "{bad}");
        }
    }
}
