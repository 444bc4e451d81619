//! Replication backfills: StartReplicationBackfill, StopReplicationBackfill,
//! ListReplicationBackfills and DescribeReplicationBackfillResults. The work is the
//! `replication_backfill` job's (`wharf-jobs`); the records and rules are in
//! `wharf_core::replication`.

use super::wire::{decode_token, encode_token, epoch};
use super::{Ctx, EcrError};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_core::model::BackfillRecord;
use wharf_core::replication::{BackfillError, Destination};
use wharf_core::AccountId;
use wharf_core::Action;

fn backfill_error(ctx: &Ctx<'_>, e: BackfillError, account: &AccountId) -> EcrError {
    match e {
        BackfillError::NoRule { .. } => EcrError::invalid(e.to_string()),
        BackfillError::InProgress(_) => {
            EcrError::new("ReplicationBackfillInProgressException", e.to_string())
        }
        BackfillError::NotFound(_) => {
            EcrError::new("ReplicationBackfillNotFoundException", e.to_string())
        }
        BackfillError::InvalidStatus { .. } => {
            EcrError::new("ReplicationBackfillInvalidStatusException", e.to_string())
        }
        BackfillError::Core(e) => ctx.core_error_account(e, account),
    }
}

/// The id ECR's model allows (a UUID), checked before any lookup.
fn check_id(id: &str) -> Result<(), EcrError> {
    let ok = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err(EcrError::new(
            "ValidationException",
            format!("replicationBackfillId {id:?} is not a valid backfill id"),
        ))
    }
}

fn destination_json(b: &BackfillRecord) -> Value {
    json!({ "region": b.region, "registryId": b.registry_id })
}

fn progress_json(b: &BackfillRecord) -> Value {
    json!({
        "totalReplicationCount": b.total,
        "completedReplicationCount": b.completed,
        "failedReplicationCount": b.failed,
        "failureCodes": b.failure_codes,
    })
}

fn summary_json(b: &BackfillRecord) -> Value {
    let mut v = json!({
        "replicationBackfillId": b.id,
        "destination": destination_json(b),
        "status": b.status,
        "progress": progress_json(b),
        "startedAt": epoch(b.started_at),
    });
    if let Some(code) = &b.failure_code {
        v["failureCode"] = json!(code);
    }
    if let Some(t) = b.ended_at {
        v["endedAt"] = json!(epoch(t));
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartReplicationBackfill {
    registry_id: Option<String>,
    destination: Destination,
}

pub async fn start(ctx: &Ctx<'_>, input: StartReplicationBackfill) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::StartReplicationBackfill, &account)
        .await?;
    let d = &input.destination;
    let region_ok = (2..=25).contains(&d.region.len())
        && d.region
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-');
    if !region_ok || d.registry_id.len() != 12 || !d.registry_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(EcrError::invalid(
            "destination needs a region ([0-9a-z-]{2,25}) and a 12-digit registryId",
        ));
    }
    let b = ctx
        .state
        .registry
        .start_replication_backfill(&account, d)
        .await
        .map_err(|e| backfill_error(ctx, e, &account))?;
    Ok(json!({
        "replicationBackfillId": b.id,
        "registryId": account.as_str(),
        "destination": destination_json(&b),
        "status": b.status,
        "startedAt": epoch(b.started_at),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopReplicationBackfill {
    registry_id: Option<String>,
    replication_backfill_id: String,
}

pub async fn stop(ctx: &Ctx<'_>, input: StopReplicationBackfill) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::StopReplicationBackfill, &account)
        .await?;
    check_id(&input.replication_backfill_id)?;
    let b = ctx
        .state
        .registry
        .stop_replication_backfill(&account, &input.replication_backfill_id)
        .await
        .map_err(|e| backfill_error(ctx, e, &account))?;
    Ok(json!({
        "registryId": account.as_str(),
        "replicationBackfillId": b.id,
        "destination": destination_json(&b),
        "status": b.status,
        "startedAt": epoch(b.started_at),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListReplicationBackfills {
    registry_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn list(ctx: &Ctx<'_>, input: ListReplicationBackfills) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::ListReplicationBackfills, &account)
        .await?;
    let limit = match input.max_results {
        None => 50,
        Some(n @ 1..=50) => n as usize,
        Some(n) => {
            return Err(EcrError::invalid(format!(
                "maxResults {n} must be between 1 and 50"
            )))
        }
    };
    let after = match &input.next_token {
        None => None,
        Some(t) => {
            let last = decode_token(t)?;
            let (at, id) = last
                .split_once(' ')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(super::wire::invalid_token)?;
            Some((at, id))
        }
    };
    let mut page = ctx
        .state
        .registry
        .replication_backfills(
            &account,
            after.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit + 1,
        )
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let more = page.len() > limit;
    page.truncate(limit);
    let mut out = json!({
        "registryId": account.as_str(),
        "backfills": page.iter().map(summary_json).collect::<Vec<_>>(),
    });
    if more {
        if let Some(last) = page.last() {
            out["nextToken"] = json!(encode_token(&format!("{} {}", last.started_at, last.id)));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeReplicationBackfillResults {
    registry_id: Option<String>,
    replication_backfill_id: String,
    result_status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub async fn results(
    ctx: &Ctx<'_>,
    input: DescribeReplicationBackfillResults,
) -> Result<Value, EcrError> {
    let account = ctx.account(input.registry_id.as_deref())?;
    ctx.authorize_registry(Action::DescribeReplicationBackfillResults, &account)
        .await?;
    check_id(&input.replication_backfill_id)?;
    if let Some(s) = &input.result_status_filter {
        if s != "COMPLETE" && s != "FAILED" {
            return Err(EcrError::invalid(format!(
                "resultStatusFilter {s:?} must be COMPLETE or FAILED"
            )));
        }
    }
    let limit = match input.max_results {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(EcrError::invalid(format!(
                "maxResults {n} must be between 1 and 1000"
            )))
        }
    };
    let after = match &input.next_token {
        None => None,
        Some(t) => {
            let last = decode_token(t)?;
            let (repo, digest) = last
                .split_once(' ')
                .map(|(r, d)| (r.to_string(), d.to_string()))
                .ok_or_else(super::wire::invalid_token)?;
            Some((repo, digest))
        }
    };
    let registry = &ctx.state.registry;
    let b = registry
        .replication_backfill(&account, &input.replication_backfill_id)
        .await
        .map_err(|e| backfill_error(ctx, e, &account))?;
    let mut page = registry
        .replication_backfill_results(
            &b.id,
            input.result_status_filter.as_deref(),
            after.as_ref().map(|(r, d)| (r.as_str(), d.as_str())),
            limit + 1,
        )
        .await
        .map_err(|e| ctx.core_error_account(e, &account))?;
    let more = page.len() > limit;
    page.truncate(limit);
    let results: Vec<Value> = page
        .iter()
        .map(|i| {
            let mut id = json!({ "imageDigest": i.digest });
            if let Some(t) = &i.tag {
                id["imageTag"] = json!(t);
            }
            let mut v = json!({
                "repositoryName": i.repository,
                "imageId": id,
                "status": i.status,
            });
            if let Some(code) = &i.failure_code {
                v["failureCode"] = json!(code);
            }
            v
        })
        .collect();
    let mut out = summary_json(&b);
    out["registryId"] = json!(account.as_str());
    out["results"] = json!(results);
    if more {
        if let Some(last) = page.last() {
            out["nextToken"] = json!(encode_token(&format!(
                "{} {}",
                last.repository, last.digest
            )));
        }
    }
    Ok(out)
}
