//! Accounts, users, access keys and identity policies as `wharf admin` manages them: thin use
//! cases over the metadata store, beside the identity service's own (identity.rs). Key changes
//! also drop this process's cached keys, so the change holds at once here.

use crate::identity::Identity;
use crate::model::{AccessKeyRecord, UserRecord};
use crate::{AccountId, CoreError, Registry};

impl Registry {
    /// Opens the identity service over this registry's database, creating the token signing
    /// key on first start.
    pub async fn open_identity(&self) -> Result<Identity, CoreError> {
        Identity::open(self.meta.clone()).await
    }
}

impl Identity {
    /// The account `/v2/` serves when a request names none.
    pub fn default_account(&self) -> AccountId {
        self.meta
            .default_account()
            .parse()
            .expect("the stored default account id is valid")
    }

    /// Creates an account; false when it exists.
    pub async fn create_account(&self, id: &AccountId, name: &str) -> Result<bool, CoreError> {
        Ok(self.meta.create_account(id.as_str(), name).await?)
    }

    /// Every account: id, name, creation time (Unix seconds).
    pub async fn list_accounts(&self) -> Result<Vec<(String, String, i64)>, CoreError> {
        Ok(self.meta.list_accounts().await?)
    }

    pub async fn account_exists(&self, id: &AccountId) -> Result<bool, CoreError> {
        Ok(self.meta.account_exists(id.as_str()).await?)
    }

    /// Creates a user; `None` when the account already has one of that name.
    pub async fn create_user(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<UserRecord>, CoreError> {
        Ok(self.meta.create_user(account.as_str(), name).await?)
    }

    pub async fn user(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<UserRecord>, CoreError> {
        Ok(self.meta.user(account.as_str(), name).await?)
    }

    /// Users of one account, or of every account.
    pub async fn list_users(&self, account: Option<&str>) -> Result<Vec<UserRecord>, CoreError> {
        Ok(self.meta.list_users(account).await?)
    }

    /// Deletes a user with its keys and policies; false when it did not exist.
    pub async fn delete_user(&self, user_id: i64) -> Result<bool, CoreError> {
        let deleted = self.meta.delete_user(user_id).await?;
        self.flush_keys();
        Ok(deleted)
    }

    /// A user's access keys (with their secrets: callers print ids and status only).
    pub async fn access_keys(&self, user_id: i64) -> Result<Vec<AccessKeyRecord>, CoreError> {
        Ok(self.meta.list_access_keys(user_id).await?)
    }

    /// Activates or deactivates an access key; false when it does not exist.
    pub async fn set_access_key_active(&self, id: &str, active: bool) -> Result<bool, CoreError> {
        let changed = self.meta.set_access_key_active(id, active).await?;
        self.flush_keys();
        Ok(changed)
    }

    /// Deletes an access key; false when it does not exist.
    pub async fn delete_access_key(&self, id: &str) -> Result<bool, CoreError> {
        let deleted = self.meta.delete_access_key(id).await?;
        self.flush_keys();
        Ok(deleted)
    }

    /// Attaches (or replaces) a named identity policy; one that does not parse as an IAM
    /// identity policy is refused before anything is stored.
    pub async fn put_user_policy(
        &self,
        user_id: i64,
        name: &str,
        document: &str,
    ) -> Result<(), CoreError> {
        crate::authz::check_policy(document, wharf_policy::PolicyKind::Identity)?;
        Ok(self.meta.put_user_policy(user_id, name, document).await?)
    }

    /// Detaches a named identity policy; false when it was not attached.
    pub async fn delete_user_policy(&self, user_id: i64, name: &str) -> Result<bool, CoreError> {
        Ok(self.meta.delete_user_policy(user_id, name).await?)
    }

    /// A user's identity policies: name and document.
    pub async fn user_policies(&self, user_id: i64) -> Result<Vec<(String, String)>, CoreError> {
        Ok(self.meta.user_policies(user_id).await?)
    }
}
