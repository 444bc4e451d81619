//! The tables `wharf migrate-storage` copies (`copy.rs`): each with its primary key (the paging
//! order) and its columns with their kinds, listed parents before children so foreign keys hold
//! after each insert. Adding a column means adding it here.

/// How a column's values are decoded and bound. Every kind is nullable-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Bytes,
}

use Kind::{Bytes, Int, Text};

/// One migrated table: its name, primary-key columns (the paging order) and every column.
pub(crate) struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [(&'static str, Kind)],
}

/// Every migrated table, parents before children, so foreign keys hold after each insert.
pub(crate) const TABLES: &[Table] = &[
    Table {
        name: "settings",
        key: &["name"],
        columns: &[("name", Text), ("value", Text)],
    },
    Table {
        name: "accounts",
        key: &["id"],
        columns: &[("id", Text), ("name", Text), ("created_at", Int)],
    },
    Table {
        name: "users",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("account_id", Text),
            ("name", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "access_keys",
        key: &["id"],
        columns: &[
            ("id", Text),
            ("user_id", Int),
            ("secret", Text),
            ("active", Int),
            ("created_at", Int),
        ],
    },
    Table {
        name: "user_policies",
        key: &["user_id", "name"],
        columns: &[("user_id", Int), ("name", Text), ("document", Text)],
    },
    Table {
        name: "registry_policies",
        key: &["account_id"],
        columns: &[("account_id", Text), ("document", Text)],
    },
    Table {
        name: "account_settings",
        key: &["account_id", "name"],
        columns: &[("account_id", Text), ("name", Text), ("value", Text)],
    },
    Table {
        name: "creation_templates",
        key: &["account_id", "prefix"],
        columns: &[
            ("account_id", Text),
            ("prefix", Text),
            ("body", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "repositories",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("account_id", Text),
            ("name", Text),
            ("created_at", Int),
            ("image_tag_mutability", Text),
            ("mutability_exclusions", Text),
            ("scan_on_push", Int),
            ("encryption_type", Text),
            ("kms_key", Text),
            ("policy", Text),
            ("lifecycle_policy", Text),
            ("lifecycle_evaluated_at", Int),
            ("public", Int),
        ],
    },
    Table {
        name: "repository_tags",
        key: &["repository_id", "key"],
        columns: &[("repository_id", Int), ("key", Text), ("value", Text)],
    },
    Table {
        name: "public_registries",
        key: &["account_id"],
        columns: &[
            ("account_id", Text),
            ("alias", Text),
            ("display_name", Text),
            ("description", Text),
            ("logo", Bytes),
            ("logo_digest", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "repository_catalog_data",
        key: &["repository_id"],
        columns: &[
            ("repository_id", Int),
            ("data", Text),
            ("logo", Bytes),
            ("logo_digest", Text),
        ],
    },
    Table {
        name: "blobs",
        key: &["digest"],
        columns: &[
            ("digest", Text),
            ("size", Int),
            ("created_at", Int),
            ("touched_at", Int),
            ("gc_mark", Int),
            ("gc_marked_at", Int),
            ("sealed", Int),
        ],
    },
    Table {
        name: "repository_blobs",
        key: &["repository_id", "digest"],
        columns: &[
            ("repository_id", Int),
            ("digest", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "manifests",
        key: &["repository_id", "digest"],
        columns: &[
            ("repository_id", Int),
            ("digest", Text),
            ("media_type", Text),
            ("artifact_type", Text),
            ("subject", Text),
            ("annotations", Text),
            ("size", Int),
            ("image_size", Int),
            ("body", Bytes),
            ("pushed_at", Int),
            ("last_pulled_at", Int),
            ("image_status", Text),
            ("archived_at", Int),
            ("activated_at", Int),
        ],
    },
    Table {
        name: "manifest_blobs",
        key: &["repository_id", "manifest_digest", "blob_digest"],
        columns: &[
            ("repository_id", Int),
            ("manifest_digest", Text),
            ("blob_digest", Text),
        ],
    },
    Table {
        name: "manifest_children",
        key: &["repository_id", "parent_digest", "child_digest"],
        columns: &[
            ("repository_id", Int),
            ("parent_digest", Text),
            ("child_digest", Text),
        ],
    },
    Table {
        name: "tags",
        key: &["repository_id", "name"],
        columns: &[
            ("repository_id", Int),
            ("name", Text),
            ("digest", Text),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "lifecycle_previews",
        key: &["repository_id"],
        columns: &[
            ("repository_id", Int),
            ("policy_text", Text),
            ("status", Text),
            ("started_at", Int),
            ("results", Text),
        ],
    },
    Table {
        name: "registry_scanning",
        key: &["account_id"],
        columns: &[
            ("account_id", Text),
            ("scan_type", Text),
            ("rules", Text),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "image_scans",
        key: &["repository_id", "manifest_digest"],
        columns: &[
            ("repository_id", Int),
            ("manifest_digest", Text),
            ("status", Text),
            ("description", Text),
            ("scan_type", Text),
            ("requested_at", Int),
            ("started_at", Int),
            ("completed_at", Int),
            ("source_updated_at", Int),
            ("inventory", Text),
            ("findings", Text),
            ("severity_counts", Text),
            ("finding_count", Int),
        ],
    },
    Table {
        name: "image_scan_keys",
        key: &["repository_id", "manifest_digest", "ecosystem", "name"],
        columns: &[
            ("repository_id", Int),
            ("manifest_digest", Text),
            ("ecosystem", Text),
            ("name", Text),
        ],
    },
    Table {
        name: "advisories",
        key: &["id"],
        columns: &[
            ("id", Text),
            ("modified", Text),
            ("document", Text),
            ("changed_at", Int),
        ],
    },
    Table {
        name: "advisory_keys",
        key: &["ecosystem", "name", "advisory_id"],
        columns: &[("ecosystem", Text), ("name", Text), ("advisory_id", Text)],
    },
    Table {
        name: "vulndb_state",
        key: &["id"],
        columns: &[("id", Int), ("updated_at", Int)],
    },
    Table {
        name: "pull_time_update_exclusions",
        key: &["account_id", "principal_arn"],
        columns: &[
            ("account_id", Text),
            ("principal_arn", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "vulndb_pending_keys",
        key: &["ecosystem", "name"],
        columns: &[("ecosystem", Text), ("name", Text)],
    },
    Table {
        name: "data_keys",
        key: &["dek_id", "key_ref"],
        columns: &[
            ("dek_id", Text),
            ("key_ref", Text),
            ("wrapped", Bytes),
            ("digest", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "master_keys",
        key: &["version"],
        columns: &[("version", Int), ("fingerprint", Text), ("created_at", Int)],
    },
    Table {
        name: "audit_events",
        key: &["id"],
        columns: &[
            ("id", Int),
            ("event_id", Text),
            ("event_time", Int),
            ("event_name", Text),
            ("event_source", Text),
            ("account_id", Text),
            ("user_arn", Text),
            ("access_key_id", Text),
            ("source_ip", Text),
            ("user_agent", Text),
            ("request_id", Text),
            ("request_parameters", Text),
            ("response_elements", Text),
            ("error_code", Text),
            ("error_message", Text),
        ],
    },
    Table {
        name: "replication_configs",
        key: &["account_id"],
        columns: &[("account_id", Text), ("body", Text), ("updated_at", Int)],
    },
    Table {
        name: "replication_statuses",
        key: &["repository_id", "manifest_digest", "region", "registry_id"],
        columns: &[
            ("repository_id", Int),
            ("manifest_digest", Text),
            ("region", Text),
            ("registry_id", Text),
            ("status", Text),
            ("failure_code", Text),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "replication_backfills",
        key: &["id"],
        columns: &[
            ("id", Text),
            ("account_id", Text),
            ("region", Text),
            ("registry_id", Text),
            ("status", Text),
            ("failure_code", Text),
            ("started_at", Int),
            ("ended_at", Int),
        ],
    },
    Table {
        name: "replication_backfill_items",
        key: &["backfill_id", "repository_name", "manifest_digest"],
        columns: &[
            ("backfill_id", Text),
            ("repository_name", Text),
            ("manifest_digest", Text),
            ("image_tag", Text),
            ("status", Text),
            ("failure_code", Text),
        ],
    },
    Table {
        name: "signing_profiles",
        key: &["account_id", "name"],
        columns: &[
            ("account_id", Text),
            ("name", Text),
            ("private_key", Bytes),
            ("key_wrap", Bytes),
            ("public_key", Bytes),
            ("created_at", Int),
        ],
    },
    Table {
        name: "signing_configs",
        key: &["account_id"],
        columns: &[("account_id", Text), ("body", Text), ("updated_at", Int)],
    },
    Table {
        name: "signing_statuses",
        key: &["repository_id", "manifest_digest", "profile_arn"],
        columns: &[
            ("repository_id", Int),
            ("manifest_digest", Text),
            ("profile_arn", Text),
            ("status", Text),
            ("failure_code", Text),
            ("failure_reason", Text),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "pull_through_rules",
        key: &["account_id", "ecr_prefix"],
        columns: &[
            ("account_id", Text),
            ("ecr_prefix", Text),
            ("upstream_url", Text),
            ("upstream_registry", Text),
            ("upstream_prefix", Text),
            ("credential_arn", Text),
            ("custom_role_arn", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "upstream_secrets",
        key: &["account_id", "name"],
        columns: &[
            ("account_id", Text),
            ("name", Text),
            ("secret", Bytes),
            ("key_wrap", Bytes),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
];
