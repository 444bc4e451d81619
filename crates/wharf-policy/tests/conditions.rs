//! The condition table: every operator, `...IfExists`, `ForAnyValue:`/`ForAllValues:`, missing
//! keys, IPv4/IPv6 ranges, dates, numbers, ARNs and policy variables in values.
//!
//! Each case puts its `Condition` block on an identity policy allowing `ecr:*` to alice (same
//! account), so the outcome is `Allow` when the block holds and `NoId` when it does not.

mod common;

use common::{check, ctx, report, Keys, E};

struct Case {
    name: &'static str,
    condition: &'static str,
    keys: Keys,
    expect: E,
}

const NOW: (&str, &[&str]) = ("aws:CurrentTime", &["2025-06-02T12:00:00Z"]);
const IP4: (&str, &[&str]) = ("aws:SourceIp", &["203.0.113.7"]);
const IP6: (&str, &[&str]) = ("aws:SourceIp", &["2001:db8::42"]);
const TEAM: (&str, &[&str]) = ("aws:ResourceTag/team", &["web"]);
const TAGKEYS: (&str, &[&str]) = ("aws:TagKeys", &["team", "env"]);
const N10: (&str, &[&str]) = ("wharf:count", &["10"]);

#[rustfmt::skip]
const CASES: &[Case] = &[
    // String operators.
    Case { name: "StringEquals", condition: r#"{"StringEquals":{"aws:username":"alice"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringEquals miss", condition: r#"{"StringEquals":{"aws:username":"bob"}}"#, keys: &[], expect: E::NoId },
    Case { name: "key names case-insensitive", condition: r#"{"StringEquals":{"AWS:UserName":"alice"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringEquals values case-sensitive", condition: r#"{"StringEquals":{"aws:username":"Alice"}}"#, keys: &[], expect: E::NoId },
    Case { name: "StringEquals no wildcards", condition: r#"{"StringEquals":{"aws:username":"al*"}}"#, keys: &[], expect: E::NoId },
    Case { name: "StringEqualsIgnoreCase", condition: r#"{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringNotEquals", condition: r#"{"StringNotEquals":{"aws:username":"bob"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringNotEquals equal", condition: r#"{"StringNotEquals":{"aws:username":"alice"}}"#, keys: &[], expect: E::NoId },
    Case { name: "StringNotEqualsIgnoreCase", condition: r#"{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}"#, keys: &[], expect: E::NoId },
    Case { name: "StringLike *", condition: r#"{"StringLike":{"aws:username":"ali*"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringLike ?", condition: r#"{"StringLike":{"aws:username":"a?ice"}}"#, keys: &[], expect: E::Allow },
    Case { name: "StringLike miss", condition: r#"{"StringLike":{"aws:username":"b*"}}"#, keys: &[], expect: E::NoId },
    Case { name: "StringNotLike", condition: r#"{"StringNotLike":{"aws:username":"b*"}}"#, keys: &[], expect: E::Allow },
    Case { name: "values ORed", condition: r#"{"StringEquals":{"aws:username":["bob","alice"]}}"#, keys: &[], expect: E::Allow },
    Case { name: "negated values NORed", condition: r#"{"StringNotEquals":{"aws:username":["bob","alice"]}}"#, keys: &[], expect: E::NoId },
    Case { name: "keys ANDed", condition: r#"{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"222222222222"}}"#, keys: &[], expect: E::NoId },
    Case { name: "operators ANDed", condition: r#"{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}"#, keys: &[("aws:SecureTransport", &["false"])], expect: E::NoId },
    Case { name: "resource tag", condition: r#"{"StringEquals":{"aws:ResourceTag/team":"web"}}"#, keys: &[TEAM], expect: E::Allow },
    Case { name: "ecr resource tag", condition: r#"{"StringEquals":{"ecr:ResourceTag/team":"web"}}"#, keys: &[("ecr:ResourceTag/team", &["web"])], expect: E::Allow },
    // Missing keys, IfExists, Null.
    Case { name: "missing key positive op", condition: r#"{"StringEquals":{"aws:ResourceTag/team":"web"}}"#, keys: &[], expect: E::NoId },
    Case { name: "missing key negated op", condition: r#"{"StringNotEquals":{"aws:ResourceTag/team":"web"}}"#, keys: &[], expect: E::Allow },
    Case { name: "missing key NotIpAddress", condition: r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, keys: &[], expect: E::Allow },
    Case { name: "IfExists missing", condition: r#"{"StringEqualsIfExists":{"aws:ResourceTag/team":"ops"}}"#, keys: &[], expect: E::Allow },
    Case { name: "IfExists present mismatch", condition: r#"{"StringEqualsIfExists":{"aws:ResourceTag/team":"ops"}}"#, keys: &[TEAM], expect: E::NoId },
    Case { name: "IfExists present match", condition: r#"{"StringEqualsIfExists":{"aws:ResourceTag/team":"web"}}"#, keys: &[TEAM], expect: E::Allow },
    Case { name: "BoolIfExists missing", condition: r#"{"BoolIfExists":{"aws:SecureTransport":"true"}}"#, keys: &[], expect: E::Allow },
    Case { name: "Null true absent", condition: r#"{"Null":{"aws:ResourceTag/team":"true"}}"#, keys: &[], expect: E::Allow },
    Case { name: "Null true present", condition: r#"{"Null":{"aws:ResourceTag/team":"true"}}"#, keys: &[TEAM], expect: E::NoId },
    Case { name: "Null false present", condition: r#"{"Null":{"aws:ResourceTag/team":false}}"#, keys: &[TEAM], expect: E::Allow },
    Case { name: "Null false absent", condition: r#"{"Null":{"aws:ResourceTag/team":"false"}}"#, keys: &[], expect: E::NoId },
    // Bool.
    Case { name: "Bool string", condition: r#"{"Bool":{"aws:SecureTransport":"true"}}"#, keys: &[("aws:SecureTransport", &["true"])], expect: E::Allow },
    Case { name: "Bool JSON true", condition: r#"{"Bool":{"aws:SecureTransport":true}}"#, keys: &[("aws:SecureTransport", &["true"])], expect: E::Allow },
    Case { name: "Bool mismatch", condition: r#"{"Bool":{"aws:SecureTransport":"true"}}"#, keys: &[("aws:SecureTransport", &["false"])], expect: E::NoId },
    Case { name: "Bool missing", condition: r#"{"Bool":{"aws:SecureTransport":"false"}}"#, keys: &[], expect: E::NoId },
    // IP addresses.
    Case { name: "IpAddress v4 in", condition: r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, keys: &[IP4], expect: E::Allow },
    Case { name: "IpAddress v4 out", condition: r#"{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}"#, keys: &[IP4], expect: E::NoId },
    Case { name: "IpAddress list", condition: r#"{"IpAddress":{"aws:SourceIp":["198.51.100.0/24","203.0.113.0/28"]}}"#, keys: &[IP4], expect: E::Allow },
    Case { name: "IpAddress single address", condition: r#"{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}"#, keys: &[IP4], expect: E::Allow },
    Case { name: "IpAddress v6 in", condition: r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#, keys: &[IP6], expect: E::Allow },
    Case { name: "IpAddress v6 out", condition: r#"{"IpAddress":{"aws:SourceIp":"2001:db9::/32"}}"#, keys: &[IP6], expect: E::NoId },
    Case { name: "IpAddress v4 range v6 caller", condition: r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, keys: &[IP6], expect: E::NoId },
    Case { name: "IpAddress missing key", condition: r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#, keys: &[], expect: E::NoId },
    Case { name: "NotIpAddress in", condition: r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#, keys: &[IP4], expect: E::NoId },
    Case { name: "NotIpAddress out", condition: r#"{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#, keys: &[IP4], expect: E::Allow },
    // Dates.
    Case { name: "DateLessThan", condition: r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "DateLessThan past", condition: r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#, keys: &[NOW], expect: E::NoId },
    Case { name: "DateGreaterThan epoch", condition: r#"{"DateGreaterThan":{"aws:CurrentTime":1700000000}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "DateGreaterThan date only", condition: r#"{"DateGreaterThan":{"aws:CurrentTime":"2025-06-01"}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "DateEquals across offsets", condition: r#"{"DateEquals":{"aws:CurrentTime":"2025-06-02T14:00:00+02:00"}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "DateNotEquals", condition: r#"{"DateNotEquals":{"aws:CurrentTime":"2025-06-02T12:00:00Z"}}"#, keys: &[NOW], expect: E::NoId },
    Case { name: "DateLessThan equal", condition: r#"{"DateLessThan":{"aws:CurrentTime":"2025-06-02T12:00:00Z"}}"#, keys: &[NOW], expect: E::NoId },
    Case { name: "DateLessThanEquals equal", condition: r#"{"DateLessThanEquals":{"aws:CurrentTime":"2025-06-02T12:00:00Z"}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "DateGreaterThanEquals equal", condition: r#"{"DateGreaterThanEquals":{"aws:CurrentTime":"2025-06-02T12:00:00.000Z"}}"#, keys: &[NOW], expect: E::Allow },
    Case { name: "Date epoch request", condition: r#"{"DateLessThan":{"aws:EpochTime":"2030-01-01T00:00:00Z"}}"#, keys: &[("aws:EpochTime", &["1748865600"])], expect: E::Allow },
    Case { name: "Date missing key", condition: r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#, keys: &[], expect: E::NoId },
    // Numbers.
    Case { name: "NumericEquals", condition: r#"{"NumericEquals":{"wharf:count":"10.0"}}"#, keys: &[N10], expect: E::Allow },
    Case { name: "NumericNotEquals", condition: r#"{"NumericNotEquals":{"wharf:count":10}}"#, keys: &[N10], expect: E::NoId },
    Case { name: "NumericLessThan", condition: r#"{"NumericLessThan":{"wharf:count":11}}"#, keys: &[N10], expect: E::Allow },
    Case { name: "NumericLessThanEquals", condition: r#"{"NumericLessThanEquals":{"wharf:count":"9"}}"#, keys: &[N10], expect: E::NoId },
    Case { name: "NumericGreaterThan", condition: r#"{"NumericGreaterThan":{"wharf:count":"9.5"}}"#, keys: &[N10], expect: E::Allow },
    Case { name: "NumericGreaterThanEquals", condition: r#"{"NumericGreaterThanEquals":{"wharf:count":10}}"#, keys: &[N10], expect: E::Allow },
    Case { name: "Numeric non-number request", condition: r#"{"NumericGreaterThan":{"wharf:count":1}}"#, keys: &[("wharf:count", &["many"])], expect: E::NoId },
    // ARNs.
    Case { name: "ArnLike", condition: r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/*"}}"#, keys: &[], expect: E::Allow },
    Case { name: "ArnLike segment wildcard", condition: r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/alice"}}"#, keys: &[], expect: E::Allow },
    Case { name: "ArnLike short pattern", condition: r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}"#, keys: &[], expect: E::NoId },
    Case { name: "ArnEquals", condition: r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice"}}"#, keys: &[], expect: E::Allow },
    Case { name: "ArnEquals case-sensitive", condition: r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/Alice"}}"#, keys: &[], expect: E::NoId },
    Case { name: "ArnNotLike", condition: r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/*"}}"#, keys: &[], expect: E::Allow },
    Case { name: "ArnNotEquals", condition: r#"{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice"}}"#, keys: &[], expect: E::NoId },
    // Set operators.
    Case { name: "ForAnyValue hit", condition: r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","cost"]}}"#, keys: &[TAGKEYS], expect: E::Allow },
    Case { name: "ForAnyValue miss", condition: r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["cost"]}}"#, keys: &[TAGKEYS], expect: E::NoId },
    Case { name: "ForAnyValue missing key", condition: r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}"#, keys: &[], expect: E::NoId },
    Case { name: "ForAllValues subset", condition: r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env","cost"]}}"#, keys: &[TAGKEYS], expect: E::Allow },
    Case { name: "ForAllValues not subset", condition: r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#, keys: &[TAGKEYS], expect: E::NoId },
    Case { name: "ForAllValues missing key", condition: r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#, keys: &[], expect: E::Allow },
    Case { name: "ForAllValues empty list", condition: r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#, keys: &[("aws:TagKeys", &[])], expect: E::Allow },
    Case { name: "ForAnyValue StringNotLike", condition: r#"{"ForAnyValue:StringNotLike":{"aws:TagKeys":"team"}}"#, keys: &[TAGKEYS], expect: E::Allow },
    Case { name: "ForAllValues StringNotLike", condition: r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":"t*"}}"#, keys: &[TAGKEYS], expect: E::NoId },
    Case { name: "ForAllValues StringLike", condition: r#"{"ForAllValues:StringLike":{"aws:TagKeys":["t*","e*"]}}"#, keys: &[TAGKEYS], expect: E::Allow },
    Case { name: "ForAnyValue IfExists missing", condition: r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"x"}}"#, keys: &[], expect: E::Allow },
    Case { name: "multi-valued key without set op", condition: r#"{"StringEquals":{"aws:TagKeys":"env"}}"#, keys: &[TAGKEYS], expect: E::Allow },
    // Policy variables in values.
    Case { name: "variable in value", condition: r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#, keys: &[("aws:ResourceTag/owner", &["alice"])], expect: E::Allow },
    Case { name: "variable in value mismatch", condition: r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#, keys: &[("aws:ResourceTag/owner", &["bob"])], expect: E::NoId },
    Case { name: "unresolved variable fails negated op", condition: r#"{"StringNotEquals":{"aws:ResourceTag/owner":"${aws:userid}"}}"#, keys: &[("aws:ResourceTag/owner", &["bob"])], expect: E::NoId },
    Case { name: "variable default", condition: r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:userid, 'nobody'}"}}"#, keys: &[("aws:ResourceTag/owner", &["nobody"])], expect: E::Allow },
    Case { name: "variable from keys", condition: r#"{"StringLike":{"aws:ResourceTag/owner":"${aws:userid}*"}}"#, keys: &[("aws:userid", &["AIDA123"]), ("aws:ResourceTag/owner", &["AIDA123-x"])], expect: E::Allow },
    Case { name: "BinaryEquals", condition: r#"{"BinaryEquals":{"wharf:blob":"QmluYXJ5"}}"#, keys: &[("wharf:blob", &["QmluYXJ5"])], expect: E::Allow },
];

#[test]
fn condition_table() {
    let failures = CASES
        .iter()
        .filter_map(|c| {
            let policy = format!(
                r#"{{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{}}}"#,
                c.condition
            );
            check(
                c.name,
                &[&policy],
                &[],
                &ctx("alice", "ecr:BatchGetImage", "app", c.keys),
                c.expect,
            )
        })
        .collect();
    report(failures, CASES.len());
}

/// The documented "deny outside these networks" repository policy.
#[test]
fn deny_outside_network() {
    let allow = r#"{"Effect":"Allow","Action":"ecr:*","Resource":"*"}"#;
    let deny = r#"{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","fd00::/8"]}}}"#;
    let cases: &[(&str, Keys, E)] = &[
        ("inside v4", &[("aws:SourceIp", &["10.1.2.3"])], E::Allow),
        ("inside v6", &[("aws:SourceIp", &["fd12::1"])], E::Allow),
        ("outside", &[("aws:SourceIp", &["192.168.1.1"])], E::DenyRes),
        ("no address", &[], E::DenyRes),
    ];
    let failures = cases
        .iter()
        .filter_map(|(name, keys, e)| {
            check(
                name,
                &[allow],
                &[deny],
                &ctx("alice", "ecr:PutImage", "app", keys),
                *e,
            )
        })
        .collect();
    report(failures, cases.len());
}
