//! Parsing and validation: accepted documents, and one rejected document per error with the
//! message it must produce.

use wharf_policy::{Effect, PolicyDocument, PolicyError, PolicyKind, MAX_POLICY_LEN};

use PolicyKind::{Identity as I, Resource as R};

const OK_RESOURCE: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
    r#"{"Version":"2008-10-17","Id":"p1","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111","arn:aws:iam::222222222222:root","arn:aws:iam::222222222222:user/ci/bot","arn:aws:iam::222222222222:role/deploy","arn:aws:sts::222222222222:assumed-role/deploy/s"]},"NotAction":"ecr:Describe*"}}"#,
    r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*","Service":["lambda.amazonaws.com"]},"Action":"*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}}"#,
    r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:Get?*","NotResource":["arn:aws:ecr:*:*:repository/x"],"Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32","192.0.2.1"]},"Null":{"aws:ResourceTag/x":"true"}}}}"#,
];

const OK_IDENTITY: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}/*","Condition":{"DateLessThan":{"aws:CurrentTime":"${aws:TokenIssueTime}"}}}]}"#,
];

#[test]
fn valid_documents_parse() {
    for text in OK_RESOURCE {
        PolicyDocument::parse(text, R).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    for text in OK_IDENTITY {
        PolicyDocument::parse(text, I).unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    let d = PolicyDocument::parse(OK_RESOURCE[0], R).unwrap();
    assert_eq!(d.kind(), R);
    assert_eq!(d.statements().len(), 1);
    assert_eq!(d.statements()[0].sid(), Some("Pull"));
    assert_eq!(d.statements()[0].effect(), Effect::Allow);
}

/// `(kind, text, exact Display of the error)`.
#[rustfmt::skip]
const BAD: &[(PolicyKind, &str, &str)] = &[
    (R, "", "policy text is not valid JSON: EOF while parsing a value at line 1 column 0"),
    (R, "{", "policy text is not valid JSON: EOF while parsing an object at line 1 column 1"),
    (R, "[]", "the policy must be a JSON object"),
    (R, r#"{"Statement":[],"Extra":1}"#, "the policy: unknown key 'Extra'"),
    (R, r#"{"Version":"2020-01-01","Statement":[]}"#, "Version '2020-01-01' is not supported; use '2012-10-17' or '2008-10-17'"),
    (R, r#"{"Version":2012,"Statement":[]}"#, "Version must be a string"),
    (R, r#"{"Id":5,"Statement":[]}"#, "Id must be a string"),
    (R, r#"{"Version":"2012-10-17"}"#, "the policy: missing required element Statement"),
    (R, r#"{"Statement":[]}"#, "Statement must not be empty"),
    (R, r#"{"Statement":"x"}"#, "Statement must be an object or an array of objects"),
    (R, r#"{"Statement":["x"]}"#, "Statement[0] must be an object"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Effects":"x"}}"#, "Statement[0]: unknown key 'Effects'"),
    (R, r#"{"Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"ecr:*"},{"Sid":"a","Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#, "Statement[1]: Sid 'a' is used by more than one statement"),
    (R, r#"{"Statement":{"Sid":1,"Effect":"Allow","Principal":"*","Action":"ecr:*"}}"#, "Statement[0].Sid must be a string"),
    (R, r#"{"Statement":{"Principal":"*","Action":"ecr:*"}}"#, "Statement[0]: missing required element Effect"),
    (R, r#"{"Statement":{"Effect":"allow","Principal":"*","Action":"ecr:*"}}"#, "Statement[0].Effect must be 'Allow' or 'Deny', not 'allow'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*"}}"#, "Statement[0]: missing required element Action or NotAction"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotAction":"ecr:Put*"}}"#, "Statement[0]: Action and NotAction cannot both be present"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"BatchGetImage"}}"#, "Statement[0].Action: invalid action 'BatchGetImage'; expected '*' or 'service:ActionName' (wildcards * and ? allowed)"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":["ecr:Get Thing"]}}"#, "Statement[0].Action: invalid action 'ecr:Get Thing'; expected '*' or 'service:ActionName' (wildcards * and ? allowed)"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}"#, "Statement[0].Action must not be empty"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":[1]}}"#, "Statement[0].Action must be a string or an array of strings"),
    (R, r#"{"Statement":{"Effect":"Allow","Action":"ecr:*"}}"#, "Statement[0]: missing required element Principal or NotPrincipal"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"ecr:*"}}"#, "Statement[0]: Principal and NotPrincipal cannot both be present"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"111111111111","Action":"ecr:*"}}"#, "Statement[0].Principal: invalid principal '111111111111': a principal given as a string must be \"*\"; use {\"AWS\": ...} for accounts and ARNs"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"11111111111"},"Action":"ecr:*"}}"#, "Statement[0].Principal.AWS: invalid principal '11111111111': expected \"*\", a 12-digit account id or an IAM principal ARN"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/*"},"Action":"ecr:*"}}"#, "Statement[0].Principal.AWS: invalid principal 'arn:aws:iam::111111111111:user/*': wildcards are only allowed as the whole principal \"*\""),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:group/devs"},"Action":"ecr:*"}}"#, "Statement[0].Principal.AWS: invalid principal 'arn:aws:iam::111111111111:group/devs': expected an account root, user, role or role-session ARN"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1111:root"},"Action":"ecr:*"}}"#, "Statement[0].Principal.AWS: invalid principal 'arn:aws:iam::1111:root': the account id in the ARN must be 12 digits"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"ecr:*"}}"#, "Statement[0].Principal.Users: unknown key 'Users'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":{},"Action":"ecr:*"}}"#, "Statement[0].Principal must not be empty"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":["*"],"Action":"ecr:*"}}"#, "Statement[0].Principal must be \"*\" or an object such as {\"AWS\": \"123456789012\"}"),
    (I, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}}"#, "Statement[0]: Principal is not allowed in identity policies"),
    (I, r#"{"Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"ecr:*","Resource":"*"}}"#, "Statement[0]: NotPrincipal is not allowed in identity policies"),
    (I, r#"{"Statement":{"Effect":"Allow","Action":"ecr:*"}}"#, "Statement[0]: missing required element Resource or NotResource"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*","NotResource":"*"}}"#, "Statement[0]: Resource and NotResource cannot both be present"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"repository/app"}}"#, "Statement[0].Resource: invalid resource 'repository/app'; expected '*' or an ARN such as 'arn:aws:ecr:us-east-1:123456789012:repository/name'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotResource":"arn:aws:ecr:us-east-1"}}"#, "Statement[0].NotResource: invalid resource 'arn:aws:ecr:us-east-1'; expected '*' or an ARN such as 'arn:aws:ecr:us-east-1:123456789012:repository/name'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":[]}}"#, "Statement[0].Condition must be an object of condition operators"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEqual":{"aws:username":"a"}}}}"#, "Statement[0].Condition: unknown condition operator 'StringEqual'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"ForSomeValues:StringEquals":{"aws:username":"a"}}}}"#, "Statement[0].Condition: unknown condition operator 'ForSomeValues:StringEquals'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"NullIfExists":{"aws:username":"true"}}}}"#, "Statement[0].Condition: unknown condition operator 'NullIfExists'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":"x"}}}"#, "Statement[0].Condition.StringEquals must be an object mapping condition keys to values"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{}}}}"#, "Statement[0].Condition.StringEquals must not be empty"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"username":"a"}}}}"#, "Statement[0].Condition.StringEquals.username: unknown key 'username'"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}}"#, "Statement[0].Condition.StringEquals.aws:username must be a string, boolean or number, or an array of them"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:username":[]}}}}"#, "Statement[0].Condition.StringEquals.aws:username must not be empty"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}"#, "Statement[0].Condition.IpAddress.aws:SourceIp: value '10.0.0.0/33' is not valid for IpAddress: expected an IPv4 or IPv6 address or CIDR block"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}"#, "Statement[0].Condition.DateLessThan.aws:CurrentTime: value 'tomorrow' is not valid for DateLessThan: expected an ISO 8601 date or epoch seconds"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}"#, "Statement[0].Condition.NumericLessThan.s3:max-keys: value 'ten' is not valid for NumericLessThan: expected a number"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}"#, "Statement[0].Condition.Bool.aws:SecureTransport: value 'yes' is not valid for Bool: expected true or false"),
    (R, r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Null":{"aws:SecureTransport":"maybe"}}}}"#, "Statement[0].Condition.Null.aws:SecureTransport: value 'maybe' is not valid for Null: expected true or false"),
];

#[test]
fn invalid_documents_are_rejected_with_precise_messages() {
    let mut failures = Vec::new();
    for (kind, text, want) in BAD {
        match PolicyDocument::parse(text, *kind) {
            Ok(_) => failures.push(format!("{text}: accepted, expected `{want}`")),
            Err(e) if e.to_string() != *want => {
                failures.push(format!("{text}:\n  got  `{e}`\n  want `{want}`"))
            }
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        BAD.len(),
        failures.join("\n")
    );
}

#[test]
fn length_limit_counts_characters() {
    let pad = |n: usize| {
        let base = r#"{"Statement":{"Sid":"","Effect":"Allow","Principal":"*","Action":"ecr:*"}}"#;
        let sid = "é".repeat(n - (base.chars().count()));
        base.replace(r#""Sid":"""#, &format!(r#""Sid":"{sid}""#))
    };
    let at_limit = pad(MAX_POLICY_LEN);
    assert_eq!(at_limit.chars().count(), MAX_POLICY_LEN);
    assert!(
        at_limit.len() > MAX_POLICY_LEN,
        "multi-byte characters count once"
    );
    PolicyDocument::parse(&at_limit, R).unwrap();
    let over = pad(MAX_POLICY_LEN + 1);
    assert_eq!(
        PolicyDocument::parse(&over, R).unwrap_err(),
        PolicyError::TooLong {
            len: MAX_POLICY_LEN + 1,
            max: MAX_POLICY_LEN
        }
    );
}

#[test]
fn registry_scope_and_unknown_actions() {
    let d = PolicyDocument::parse(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["ecr:CreateRepository","ecr:ReplicateImage","ecr:Replicate*"]},
            {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["ecr:Batch*","ecr:NoSuchThing","s3:GetObject"]}]}"#,
        R,
    )
    .unwrap();
    let v1 = [
        "ecr:ReplicateImage",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",
    ];
    assert_eq!(d.actions_outside(&v1), vec!["ecr:Batch*".to_string()]);
    assert_eq!(d.unknown_ecr_actions(), vec!["ecr:NoSuchThing".to_string()]);
}
