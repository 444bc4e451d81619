//! Account ids and fully qualified repository names.

use std::fmt;
use std::str::FromStr;
use wharf_meta::RepoKey;
use wharf_oci::RepoName;

/// A 12-digit account id; every account is one registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text is not a 12-digit account id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account ids are 12 digits")]
pub struct AccountIdError;

impl FromStr for AccountId {
    type Err = AccountIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_string()))
        } else {
            Err(AccountIdError)
        }
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A repository in an account's registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repo {
    pub account: AccountId,
    pub name: RepoName,
}

impl Repo {
    pub fn new(account: AccountId, name: RepoName) -> Repo {
        Repo { account, name }
    }

    /// The key the metadata store uses.
    pub fn key(&self) -> RepoKey<'_> {
        RepoKey {
            account: self.account.as_str(),
            name: self.name.as_str(),
        }
    }

    /// `account/name`, unique across the server (for caches and logs).
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.account, self.name)
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!("123456789012".parse::<AccountId>().is_ok());
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "../etc/pass",
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
    }
}
