//! Scan results as the API reads them: starting a scan by hand, a scan's findings a page at a
//! time, and summaries of many images at once.

use super::{ImageScanReport, ScanStatus, ScanSummary};
use crate::images::{ImageId, ImageResult};
use crate::{CoreError, Registry, Repo};
use std::collections::HashMap;
use wharf_meta::ImageRecord;
use wharf_oci::Digest;

impl Registry {
    /// StartImageScan: records IN_PROGRESS and queues the scan.
    pub async fn start_image_scan(
        &self,
        _repo: &Repo,
        _id: &ImageId,
    ) -> ImageResult<(ImageRecord, ScanStatus)> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }

    /// A scan's summary and one page of its findings; `ScanNotFound` if never scanned.
    pub async fn image_scan(
        &self,
        _repo: &Repo,
        _digest: &Digest,
        _token: Option<&str>,
        _max_results: usize,
    ) -> Result<ImageScanReport, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }

    /// Summaries of many images; digests never scanned are absent.
    pub async fn scan_summaries(
        &self,
        _repo: &Repo,
        _digests: &[Digest],
    ) -> Result<HashMap<Digest, ScanSummary>, CoreError> {
        Err(CoreError::Internal("scanning is not built yet".into()))
    }
}
