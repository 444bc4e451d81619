//! `wharf audit`: the audit trail, newest first, as a table or as CloudTrail-shaped JSON
//! (`{"Records": [...]}`), filtered by time, event name and user. Safe while servers run.

use crate::config::Settings;
use crate::gc::ReportFormat;
use anyhow::{bail, Context};
use serde_json::{json, Value};
use wharf_core::model::{AuditFilter, AuditRecord};

/// Arguments of `wharf audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only records at or after this time: RFC 3339 (2026-01-31T12:00:00Z), Unix seconds, or an
    /// age such as 15m, 2h, 7d.
    #[arg(long)]
    since: Option<String>,
    /// Only records before this time (same forms as --since).
    #[arg(long)]
    until: Option<String>,
    /// Only records of this event (PutImage, CreateRepository, CompleteLayerUpload, ...).
    #[arg(long)]
    event_name: Option<String>,
    /// Only records of this user: a user name, a principal ARN, or `anonymous`.
    #[arg(long)]
    user: Option<String>,
    /// At most this many records.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Report as a table or as JSON.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
}

pub async fn run(settings: Settings, args: AuditArgs) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    let filter = AuditFilter {
        since: args
            .since
            .as_deref()
            .map(|s| instant(s, now))
            .transpose()
            .context("--since")?,
        until: args
            .until
            .as_deref()
            .map(|s| instant(s, now))
            .transpose()
            .context("--until")?,
        event_name: args.event_name,
        user: args.user,
        limit: i64::from(args.limit),
    };
    let db = wharf_core::stores::open_records(&crate::open::stores(&settings)).await?;
    let records = db.audit_events(&filter).await;
    db.close().await;
    let records = records?;
    let out = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&json!({
            "Records": records.iter().map(|r| cloudtrail(r, &settings.region)).collect::<Vec<_>>()
        }))?,
        ReportFormat::Table => table(&records),
    };
    println!("{out}");
    Ok(())
}

/// A time argument as Unix milliseconds.
fn instant(s: &str, now: time::OffsetDateTime) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs.saturating_mul(1000));
    }
    let unit = match s.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => bail!("{s:?} is not RFC 3339, Unix seconds or an age like 15m, 2h, 7d"),
    };
    let n: i64 = s[..s.len() - 1].parse().with_context(|| {
        format!("{s:?} is not RFC 3339, Unix seconds or an age like 15m, 2h, 7d")
    })?;
    let at = now.unix_timestamp().saturating_sub(n.saturating_mul(unit));
    Ok(at.saturating_mul(1000))
}

/// Unix milliseconds as RFC 3339 (UTC, whole seconds as CloudTrail writes them).
fn timestamp(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// One record in CloudTrail's shape.
fn cloudtrail(r: &AuditRecord, region: &str) -> Value {
    let identity = match r.user_arn.as_deref() {
        Some("anonymous") | None => json!({ "type": "AWSAccount", "principalId": "anonymous" }),
        Some(arn) => {
            let user = arn.rsplit('/').next().unwrap_or(arn);
            json!({
                "type": "IAMUser",
                "arn": arn,
                "accountId": arn.split(':').nth(4).unwrap_or(""),
                "userName": user,
                "accessKeyId": r.access_key_id,
            })
        }
    };
    let mut v = json!({
        "eventVersion": "1.08",
        "eventTime": timestamp(r.event_time),
        "eventSource": r.event_source,
        "eventName": r.event_name,
        "awsRegion": region,
        "sourceIPAddress": r.source_ip,
        "userAgent": r.user_agent,
        "userIdentity": identity,
        "requestParameters": parsed(r.request_parameters.as_deref()),
        "responseElements": parsed(r.response_elements.as_deref()),
        "requestID": r.request_id,
        "eventID": r.event_id,
        "eventType": "AwsApiCall",
        "recipientAccountId": r.account_id,
    });
    if let Some(code) = &r.error_code {
        v["errorCode"] = json!(code);
        v["errorMessage"] = json!(r.error_message);
    }
    if r.user_arn.is_none() {
        v["userIdentity"]["accessKeyId"] = json!(r.access_key_id);
    }
    v
}

fn table(records: &[AuditRecord]) -> String {
    let mut out = format!(
        "{:<20}  {:<28}  {:<18}  {:<44}  {:<15}  {}",
        "TIME", "EVENT", "SOURCE", "USER", "SOURCE IP", "ERROR"
    );
    for r in records {
        out.push_str(&format!(
            "\n{:<20}  {:<28}  {:<18}  {:<44}  {:<15}  {}",
            timestamp(r.event_time),
            r.event_name,
            r.event_source,
            r.user_arn.as_deref().unwrap_or("-"),
            r.source_ip.as_deref().unwrap_or("-"),
            r.error_code.as_deref().unwrap_or("")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_three_forms() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        assert_eq!(instant("1970-01-01T00:00:10Z", now).unwrap(), 10_000);
        assert_eq!(instant("42", now).unwrap(), 42_000);
        assert_eq!(instant("2h", now).unwrap(), (1_000_000 - 7200) * 1000);
        assert_eq!(instant("7d", now).unwrap(), (1_000_000 - 7 * 86_400) * 1000);
        assert!(instant("yesterday", now).is_err());
    }

    #[test]
    fn records_take_cloudtrails_shape() {
        let r = AuditRecord {
            event_time: 10_500,
            event_name: "PutImage".into(),
            event_source: "ecr.amazonaws.com".into(),
            user_arn: Some("arn:aws:iam::123456789012:user/dev".into()),
            access_key_id: Some("AKIA1".into()),
            request_parameters: Some(r#"{"repositoryName":"app"}"#.into()),
            error_code: Some("AccessDeniedException".into()),
            error_message: Some("no".into()),
            ..AuditRecord::default()
        };
        let v = cloudtrail(&r, "us-east-1");
        assert_eq!(v["eventTime"], "1970-01-01T00:00:10Z");
        assert_eq!(
            v["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:user/dev"
        );
        assert_eq!(v["userIdentity"]["accountId"], "123456789012");
        assert_eq!(v["requestParameters"]["repositoryName"], "app");
        assert_eq!(v["errorCode"], "AccessDeniedException");
        assert!(table(&[r]).contains("PutImage"));
    }
}
