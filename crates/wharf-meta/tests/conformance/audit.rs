//! The audit trail on both backends: batched appends, filters, newest-first order, pruning, and
//! the cache epoch left alone.

use wharf_meta::{AuditFilter, AuditRecord, MetaStore};

fn record(name: &str, time: i64, user: Option<&str>) -> AuditRecord {
    AuditRecord {
        event_id: format!("id-{name}-{time}"),
        event_time: time,
        event_name: name.to_string(),
        event_source: "ecr.amazonaws.com".to_string(),
        account_id: Some("123456789012".to_string()),
        user_arn: user.map(str::to_string),
        source_ip: Some("127.0.0.1".to_string()),
        user_agent: Some("aws-cli/2".to_string()),
        request_parameters: Some(r#"{"repositoryName":"app"}"#.to_string()),
        error_code: (name == "Denied").then(|| "AccessDeniedException".to_string()),
        ..AuditRecord::default()
    }
}

pub(crate) async fn audit_trail(store: &MetaStore) {
    let epoch = store.cache_epoch().await.unwrap();
    let admin = "arn:aws:iam::123456789012:user/admin";
    let dev = "arn:aws:iam::123456789012:user/dev";
    // A batch larger than one INSERT statement.
    let mut batch: Vec<AuditRecord> = (0..130)
        .map(|i| record("PutImage", 1_000 + i, Some(admin)))
        .collect();
    batch.push(record("Denied", 5_000, Some(dev)));
    batch.push(record("CreateRepository", 6_000, None));
    store.insert_audit_events(&batch).await.unwrap();
    store.insert_audit_events(&[]).await.unwrap();
    assert_eq!(
        store.cache_epoch().await.unwrap(),
        epoch,
        "audit writes never move the cache epoch"
    );

    let all = |limit| AuditFilter {
        limit,
        ..AuditFilter::default()
    };
    let got = store.audit_events(&all(1000)).await.unwrap();
    assert_eq!(got.len(), 132);
    assert_eq!(got[0].event_name, "CreateRepository", "newest first");
    assert_eq!(got[0].user_arn, None);
    assert!(got[0].id > 0);
    assert_eq!(got[1], {
        let mut r = record("Denied", 5_000, Some(dev));
        r.id = got[1].id;
        r
    });
    assert_eq!(store.audit_events(&all(5)).await.unwrap().len(), 5);

    let by_name = store
        .audit_events(&AuditFilter {
            event_name: Some("PutImage".into()),
            since: Some(1_100),
            until: Some(1_110),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_name.len(), 10);
    assert!(by_name
        .iter()
        .all(|r| r.event_time >= 1_100 && r.event_time < 1_110));
    assert_eq!(by_name[0].event_time, 1_109);

    for user in ["dev", dev] {
        let by_user = store
            .audit_events(&AuditFilter {
                user: Some(user.into()),
                limit: 100,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(by_user.len(), 1, "user filter {user}");
        assert_eq!(
            by_user[0].error_code.as_deref(),
            Some("AccessDeniedException")
        );
    }

    assert_eq!(store.prune_audit_events(1_065).await.unwrap(), 65);
    let left = store.audit_events(&all(1000)).await.unwrap();
    assert_eq!(left.len(), 67);
    assert!(left.iter().all(|r| r.event_time >= 1_065));
    assert_eq!(store.prune_audit_events(i64::MAX).await.unwrap(), 67);
}
