//! Per-account registry settings (ECR's Get/PutAccountSetting, e.g. `BLOB_MOUNTING`) and pull
//! time update exclusions: the principals whose pulls leave `lastRecordedPullTime` unchanged.

use crate::model::PullExclusion;
use crate::{AccountId, CoreError, Registry};

/// An account setting ECR knows: its name, the values it takes, and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSetting {
    pub name: &'static str,
    pub values: &'static [&'static str],
    pub default: &'static str,
}

/// Every account setting, in ECR's order.
pub const ACCOUNT_SETTINGS: &[AccountSetting] = &[
    AccountSetting {
        name: "BASIC_SCAN_TYPE_VERSION",
        values: &["AWS_NATIVE", "CLAIR"],
        default: "AWS_NATIVE",
    },
    AccountSetting {
        name: "REGISTRY_POLICY_SCOPE",
        values: &["V1", "V2"],
        default: "V2",
    },
    AccountSetting {
        name: "BLOB_MOUNTING",
        values: &["ENABLED", "DISABLED"],
        default: "ENABLED",
    },
];

impl AccountSetting {
    /// The setting called `name`, if ECR has one.
    pub fn named(name: &str) -> Option<&'static AccountSetting> {
        ACCOUNT_SETTINGS.iter().find(|s| s.name == name)
    }
}

impl Registry {
    /// The account's value of a setting, or the setting's default.
    pub async fn account_setting(
        &self,
        account: &AccountId,
        setting: &AccountSetting,
    ) -> Result<String, CoreError> {
        Ok(self
            .meta
            .account_setting(account.as_str(), setting.name)
            .await?
            .unwrap_or_else(|| setting.default.to_owned()))
    }

    /// Sets a setting; `value` must be one of `setting.values`.
    pub async fn put_account_setting(
        &self,
        account: &AccountId,
        setting: &AccountSetting,
        value: &str,
    ) -> Result<(), CoreError> {
        if !setting.values.contains(&value) {
            return Err(CoreError::InvalidParameter(format!(
                "{} takes one of {}, not {value:?}",
                setting.name,
                setting.values.join(", ")
            )));
        }
        Ok(self
            .meta
            .put_account_setting(account.as_str(), setting.name, value)
            .await?)
    }

    /// Excludes a principal from pull time updates; `None` when it already was.
    pub async fn register_pull_exclusion(
        &self,
        account: &AccountId,
        principal_arn: &str,
    ) -> Result<Option<PullExclusion>, CoreError> {
        Ok(self
            .meta
            .register_pull_exclusion(account.as_str(), principal_arn)
            .await?)
    }

    /// Ends a principal's exclusion; whether it had one.
    pub async fn deregister_pull_exclusion(
        &self,
        account: &AccountId,
        principal_arn: &str,
    ) -> Result<bool, CoreError> {
        Ok(self
            .meta
            .deregister_pull_exclusion(account.as_str(), principal_arn)
            .await?)
    }

    /// Up to `limit` excluded principals in ARN order, after `after`.
    pub async fn pull_exclusions(
        &self,
        account: &AccountId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PullExclusion>, CoreError> {
        Ok(self
            .meta
            .pull_exclusions(
                account.as_str(),
                after,
                i64::try_from(limit).unwrap_or(i64::MAX),
            )
            .await?)
    }
}
