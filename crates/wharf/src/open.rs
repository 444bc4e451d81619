//! Opening the installation the settings name, for `serve` and every command that needs the
//! stores: the stores through `wharf_core::stores`, the master keyring, and the registry set up
//! as the settings say.

use crate::config::Settings;
use wharf_core::stores::StoreSettings;
use wharf_core::Registry;

/// The stores the settings name.
pub fn stores(settings: &Settings) -> StoreSettings {
    StoreSettings {
        data_dir: settings.data_dir.clone(),
        metadata: settings.metadata.clone(),
        blob_store: settings.blob_store.clone(),
    }
}

/// Opens the blob and metadata stores the settings name (by default both under the data
/// directory; wharf-core checks that the blob store answers and belongs to this database),
/// loads the master keyring, and sets the registry up as the settings say. `Registry::close`
/// closes it.
pub async fn open_registry(settings: &Settings) -> anyhow::Result<Registry> {
    let registry = wharf_core::stores::open_registry(&stores(settings)).await?;
    let keys = crate::encryption::load_keys(&settings.encryption, &registry).await?;
    let registry = registry
        .with_region(&settings.region)
        .with_registry_host(&settings.public_host)
        .with_scan_eligibility_days(settings.scan_eligibility_days)
        .with_pull_through_tag_ttl(settings.pull_through_tag_ttl)
        .with_keys(keys)
        .with_webhooks(settings.webhooks.clone());
    registry
        .check_master_keys()
        .await
        .map_err(|e| anyhow::anyhow!("master key check failed: {e}"))?;
    Ok(registry)
}
