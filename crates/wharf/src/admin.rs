//! `wharf admin …`: manage accounts, users, access keys and identity policies through
//! wharf-core's identity use cases, and print login passwords for scripts.

use crate::config::Settings;
use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use std::time::{SystemTime, UNIX_EPOCH};
use wharf_core::model::UserRecord;
use wharf_core::{AccountId, Identity, Principal};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account (a registry): `wharf admin create-account 123456789012 --name team`.
    CreateAccount {
        id: String,
        #[arg(long, default_value = "account")]
        name: String,
    },
    /// List accounts.
    ListAccounts,
    /// Create a user in an account (the default account unless --account).
    CreateUser {
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// List users.
    ListUsers {
        #[arg(long)]
        account: Option<String>,
    },
    /// Delete a user with its keys and policies.
    DeleteUser {
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Create an access key for a user; prints the id and secret once.
    CreateAccessKey {
        user: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// List a user's access keys (ids and status, never secrets).
    ListAccessKeys {
        user: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Deactivate an access key (its login tokens stop working too).
    DeactivateAccessKey { id: String },
    /// Reactivate an access key.
    ActivateAccessKey { id: String },
    /// Delete an access key.
    DeleteAccessKey { id: String },
    /// Attach (or replace) a named identity policy from a JSON file (`-` reads stdin).
    AttachPolicy {
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        file: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Detach a named identity policy.
    DetachPolicy {
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// List a user's identity policies.
    ListPolicies {
        user: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Create a repository creation template, e.g. `--prefix ROOT --applied-for CREATE_ON_PUSH` to
    /// let pushes create any repository (the ECR API's CreateRepositoryCreationTemplate does the same).
    CreateTemplate {
        #[arg(long)]
        prefix: String,
        #[arg(long = "applied-for", required = true)]
        applied_for: Vec<String>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Create a signing profile (a new ECDSA P-256 key held by Wharf, sealed under the master
    /// keyring when one is configured) and print its Signer-style ARN, for
    /// PutSigningConfiguration rules.
    CreateSigningProfile {
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Store credentials for a pull-through cache's upstream registry (sealed under the master
    /// keyring when one is configured) as `ecr-pullthroughcache/<NAME>`, and print the
    /// credentialArn rules name them by. The access token (or password) is read from standard
    /// input, never from the command line.
    PutUpstreamSecret {
        name: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Remove stored upstream credentials.
    DeleteUpstreamSecret {
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Print a signing profile's public key in PEM, for `cosign verify --key`.
    SigningPublicKey {
        name: String,
        #[arg(long)]
        account: Option<String>,
    },
    /// Print a registry login password for a user, like `aws ecr get-login-password`.
    LoginPassword {
        #[arg(default_value = "admin")]
        user: String,
        #[arg(long)]
        account: Option<String>,
    },
}

async fn account_id(identity: &Identity, account: Option<String>) -> anyhow::Result<AccountId> {
    let id = account.unwrap_or_else(|| identity.default_account().to_string());
    let parsed = id
        .parse::<AccountId>()
        .map_err(|e| anyhow!("{id:?}: {e}"))?;
    if !identity.account_exists(&parsed).await? {
        bail!("account {id} does not exist");
    }
    Ok(parsed)
}

async fn user(
    identity: &Identity,
    account: Option<String>,
    name: &str,
) -> anyhow::Result<UserRecord> {
    let account = account_id(identity, account).await?;
    identity
        .user(&account, name)
        .await?
        .ok_or_else(|| anyhow!("user {name} does not exist in account {account}"))
}

fn valid_user_name(name: &str) -> anyhow::Result<()> {
    // IAM user names: 1..64 of [A-Za-z0-9+=,.@_-].
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        bail!("user names are 1 to 64 characters of letters, digits and +=,.@_-")
    }
}

pub async fn run(settings: Settings, cmd: AdminCommand) -> anyhow::Result<()> {
    let registry = crate::open::open_registry(&settings).await?;
    let result = admin(&registry, cmd).await;
    registry.close().await;
    result
}

async fn admin(registry: &wharf_core::Registry, cmd: AdminCommand) -> anyhow::Result<()> {
    let identity = registry.open_identity().await?;
    match cmd {
        AdminCommand::CreateAccount { id, name } => {
            let account = id
                .parse::<AccountId>()
                .map_err(|e| anyhow!("{id:?}: {e}"))?;
            if !identity.create_account(&account, &name).await? {
                bail!("account {id} already exists");
            }
            println!("{id}");
        }
        AdminCommand::ListAccounts => {
            let default_account = identity.default_account();
            for (id, name, _) in identity.list_accounts().await? {
                let default = if id == default_account.as_str() {
                    " (default)"
                } else {
                    ""
                };
                println!("{id}\t{name}{default}");
            }
        }
        AdminCommand::CreateUser { name, account } => {
            valid_user_name(&name)?;
            let account = account_id(&identity, account).await?;
            let u = identity
                .create_user(&account, &name)
                .await?
                .ok_or_else(|| anyhow!("user {name} already exists in account {account}"))?;
            println!("arn:aws:iam::{}:user/{}", u.account, u.name);
        }
        AdminCommand::ListUsers { account } => {
            for u in identity.list_users(account.as_deref()).await? {
                println!("arn:aws:iam::{}:user/{}", u.account, u.name);
            }
        }
        AdminCommand::DeleteUser { name, account } => {
            let u = user(&identity, account, &name).await?;
            identity.delete_user(u.id).await?;
        }
        AdminCommand::CreateAccessKey {
            user: name,
            account,
        } => {
            let u = user(&identity, account, &name).await?;
            let key = identity.create_access_key(u.id).await?;
            println!(
                "aws_access_key_id = {}\naws_secret_access_key = {}",
                key.id, key.secret
            );
        }
        AdminCommand::ListAccessKeys {
            user: name,
            account,
        } => {
            let u = user(&identity, account, &name).await?;
            for k in identity.access_keys(u.id).await? {
                println!("{}\t{}", k.id, if k.active { "Active" } else { "Inactive" });
            }
        }
        AdminCommand::DeactivateAccessKey { id } => {
            if !identity.set_access_key_active(&id, false).await? {
                bail!("access key {id} does not exist");
            }
        }
        AdminCommand::ActivateAccessKey { id } => {
            if !identity.set_access_key_active(&id, true).await? {
                bail!("access key {id} does not exist");
            }
        }
        AdminCommand::DeleteAccessKey { id } => {
            if !identity.delete_access_key(&id).await? {
                bail!("access key {id} does not exist");
            }
        }
        AdminCommand::AttachPolicy {
            user: name,
            name: policy,
            file,
            account,
        } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("reading {file}"))?
            };
            let u = user(&identity, account, &name).await?;
            // The use case refuses a document that is not a valid IAM identity policy.
            identity
                .put_user_policy(u.id, &policy, &text)
                .await
                .map_err(|e| anyhow!("{policy}: {e}"))?;
        }
        AdminCommand::DetachPolicy {
            user: name,
            name: policy,
            account,
        } => {
            let u = user(&identity, account, &name).await?;
            if !identity.delete_user_policy(u.id, &policy).await? {
                bail!("policy {policy} is not attached to {name}");
            }
        }
        AdminCommand::ListPolicies {
            user: name,
            account,
        } => {
            let u = user(&identity, account, &name).await?;
            for (policy, doc) in identity.user_policies(u.id).await? {
                println!("{policy}\t{doc}");
            }
        }
        AdminCommand::CreateTemplate {
            prefix,
            applied_for,
            account,
        } => {
            for a in &applied_for {
                if !["CREATE_ON_PUSH", "PULL_THROUGH_CACHE", "REPLICATION"].contains(&a.as_str()) {
                    bail!("--applied-for must be CREATE_ON_PUSH, PULL_THROUGH_CACHE or REPLICATION, not {a}");
                }
            }
            if prefix != "ROOT"
                && prefix
                    .trim_end_matches('/')
                    .parse::<wharf_oci::RepoName>()
                    .is_err()
            {
                bail!("--prefix must be ROOT or a repository name prefix");
            }
            let account = account_id(&identity, account).await?;
            let body = serde_json::json!({ "appliedFor": applied_for });
            match registry.create_template(&account, &prefix, &body).await {
                Err(wharf_core::CoreError::TemplateAlreadyExists) => {
                    bail!("a template with prefix {prefix} already exists")
                }
                other => other?,
            }
        }
        AdminCommand::CreateSigningProfile { name, account } => {
            let account = account_id(&identity, account).await?;
            let arn = registry
                .create_signing_profile(&account, &name)
                .await?
                .ok_or_else(|| {
                    anyhow!("signing profile {name} already exists in account {account}")
                })?;
            println!("{arn}");
        }
        AdminCommand::PutUpstreamSecret {
            name,
            username,
            account,
        } => {
            let account = account_id(&identity, account).await?;
            let mut token = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut token)
                .context("reading the access token from standard input")?;
            let token = zeroize::Zeroizing::new(token.trim_end_matches(['\r', '\n']).to_string());
            let arn = registry
                .put_upstream_secret(
                    &account,
                    &name,
                    &wharf_core::pull_through::UpstreamSecret {
                        username,
                        access_token: token,
                    },
                )
                .await?;
            println!("{arn}");
        }
        AdminCommand::DeleteUpstreamSecret { name, account } => {
            let account = account_id(&identity, account).await?;
            if !registry.delete_upstream_secret(&account, &name).await? {
                bail!("no upstream secret {name} in account {account}");
            }
        }
        AdminCommand::SigningPublicKey { name, account } => {
            let account = account_id(&identity, account).await?;
            let pem = registry
                .signing_public_key(&account, &name)
                .await?
                .ok_or_else(|| {
                    anyhow!("signing profile {name} does not exist in account {account}")
                })?;
            print!("{pem}");
        }
        AdminCommand::LoginPassword {
            user: name,
            account,
        } => {
            let u = user(&identity, account, &name).await?;
            let key = identity
                .access_keys(u.id)
                .await?
                .into_iter()
                .find(|k| k.active)
                .ok_or_else(|| anyhow!("{name} has no active access key"))?;
            let Principal::User(user) = Identity::principal_of(&key)? else {
                bail!("not a user");
            };
            let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
            println!("{}", identity.issue_token(&user, now).password);
        }
    }
    Ok(())
}
