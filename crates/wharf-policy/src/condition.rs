//! The `Condition` element: operator grammar, value validation and evaluation.
//!
//! Semantics follow the IAM documentation: operators in a block are ANDed, keys within an
//! operator are ANDed, values for one key are ORed (NORed for negated operators). A key absent
//! from the request makes a positive operator false and a negated one (`StringNotEquals`,
//! `NotIpAddress`...) true; `...IfExists` makes any operator true for an absent key; `Null` tests
//! presence. `ForAnyValue:` needs one request value to satisfy the operator (false when the key is
//! absent); `ForAllValues:` needs every request value to (true when the key is absent).

use crate::error::PolicyError;
use crate::pattern::{self, expand, Tok, VarSource};
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::IpAddr;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::{Date, OffsetDateTime};

/// The request keys a condition reads.
pub(crate) trait Lookup: VarSource {
    /// All values of `key` (matched case-insensitively); `None` when the request lacks it.
    fn values(&self, key: &str) -> Option<&[String]>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const BASES: &[(&str, Base)] = &[
    ("StringEquals", Base::StringEquals),
    ("StringNotEquals", Base::StringNotEquals),
    ("StringEqualsIgnoreCase", Base::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Base::StringNotEqualsIgnoreCase),
    ("StringLike", Base::StringLike),
    ("StringNotLike", Base::StringNotLike),
    ("NumericEquals", Base::NumericEquals),
    ("NumericNotEquals", Base::NumericNotEquals),
    ("NumericLessThan", Base::NumericLessThan),
    ("NumericLessThanEquals", Base::NumericLessThanEquals),
    ("NumericGreaterThan", Base::NumericGreaterThan),
    ("NumericGreaterThanEquals", Base::NumericGreaterThanEquals),
    ("DateEquals", Base::DateEquals),
    ("DateNotEquals", Base::DateNotEquals),
    ("DateLessThan", Base::DateLessThan),
    ("DateLessThanEquals", Base::DateLessThanEquals),
    ("DateGreaterThan", Base::DateGreaterThan),
    ("DateGreaterThanEquals", Base::DateGreaterThanEquals),
    ("Bool", Base::Bool),
    ("BinaryEquals", Base::BinaryEquals),
    ("IpAddress", Base::IpAddress),
    ("NotIpAddress", Base::NotIpAddress),
    ("ArnEquals", Base::ArnEquals),
    ("ArnLike", Base::ArnLike),
    ("ArnNotEquals", Base::ArnNotEquals),
    ("ArnNotLike", Base::ArnNotLike),
    ("Null", Base::Null),
];

impl Base {
    /// For a negated operator, the positive operator it negates.
    fn positive(self) -> Option<Base> {
        Some(match self {
            Base::StringNotEquals => Base::StringEquals,
            Base::StringNotEqualsIgnoreCase => Base::StringEqualsIgnoreCase,
            Base::StringNotLike => Base::StringLike,
            Base::NumericNotEquals => Base::NumericEquals,
            Base::DateNotEquals => Base::DateEquals,
            Base::NotIpAddress => Base::IpAddress,
            Base::ArnNotEquals => Base::ArnEquals,
            Base::ArnNotLike => Base::ArnLike,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    ForAnyValue,
    ForAllValues,
}

/// One operator of a `Condition` block with its keys and values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Clause {
    set: Option<SetOp>,
    base: Base,
    if_exists: bool,
    /// Key and its values, kept as policy text (values may hold policy variables).
    entries: Vec<(String, Vec<String>)>,
}

/// Parses a `Condition` element into clauses.
pub(crate) fn parse_block(
    v: &Value,
    at: &str,
    variables: bool,
) -> Result<Vec<Clause>, PolicyError> {
    let Value::Object(ops) = v else {
        return Err(PolicyError::WrongType {
            at: at.to_string(),
            expected: "an object of condition operators",
        });
    };
    ops.iter()
        .map(|(name, body)| parse_clause(name, body, at, variables))
        .collect()
}

fn parse_clause(
    name: &str,
    body: &Value,
    at: &str,
    variables: bool,
) -> Result<Clause, PolicyError> {
    let unknown = || PolicyError::Operator {
        at: at.to_string(),
        op: name.to_string(),
    };
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (Some(SetOp::ForAnyValue), r)
    } else if let Some(r) = name.strip_prefix("ForAllValues:") {
        (Some(SetOp::ForAllValues), r)
    } else {
        (None, name)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let base = BASES
        .iter()
        .find(|(n, _)| *n == rest)
        .map(|(_, b)| *b)
        .ok_or_else(unknown)?;
    // `Null` already tests existence, so neither a set prefix nor `IfExists` means anything on it.
    if base == Base::Null && (if_exists || set.is_some()) {
        return Err(unknown());
    }
    let at = format!("{at}.{name}");
    let Value::Object(keys) = body else {
        return Err(PolicyError::WrongType {
            at,
            expected: "an object mapping condition keys to values",
        });
    };
    if keys.is_empty() {
        return Err(PolicyError::Empty { at });
    }
    let entries = parse_entries(keys, &at, name, base, variables)?;
    Ok(Clause {
        set,
        base,
        if_exists,
        entries,
    })
}

fn parse_entries(
    keys: &Map<String, Value>,
    at: &str,
    op: &str,
    base: Base,
    variables: bool,
) -> Result<Vec<(String, Vec<String>)>, PolicyError> {
    let mut entries = Vec::with_capacity(keys.len());
    for (key, v) in keys {
        let at = format!("{at}.{key}");
        if key.is_empty() || !key.contains(':') {
            return Err(PolicyError::UnknownKey {
                at,
                key: key.clone(),
            });
        }
        let values = scalar_list(v, &at)?;
        for value in &values {
            // Values holding variables can only be checked once the request fills them in.
            if variables && pattern::has_variable(value) && base != Base::Null {
                continue;
            }
            if let Err(reason) = check_value(base, value) {
                return Err(PolicyError::ConditionValue {
                    at,
                    op: op.to_string(),
                    value: value.clone(),
                    reason,
                });
            }
        }
        entries.push((key.clone(), values));
    }
    Ok(entries)
}

/// A condition value: a string, boolean or number, or a non-empty array of them.
fn scalar_list(v: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    let expected = "a string, boolean or number, or an array of them";
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(PolicyError::WrongType {
            at: at.to_string(),
            expected,
        }),
    };
    match v {
        Value::Array(items) if items.is_empty() => Err(PolicyError::Empty { at: at.to_string() }),
        Value::Array(items) => items.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

fn check_value(base: Base, v: &str) -> Result<(), &'static str> {
    use Base::*;
    match base {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => number(v).map(|_| ()).ok_or("expected a number"),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => date(v)
            .map(|_| ())
            .ok_or("expected an ISO 8601 date or epoch seconds"),
        IpAddress | NotIpAddress => cidr(v)
            .map(|_| ())
            .ok_or("expected an IPv4 or IPv6 address or CIDR block"),
        Bool | Null => boolean(v).map(|_| ()).ok_or("expected true or false"),
        _ => Ok(()),
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date as Unix nanoseconds: RFC 3339, ISO 8601 (date-time or date), or epoch seconds.
fn date(s: &str) -> Option<i128> {
    let s = s.trim();
    if let Some(n) = number(s) {
        return Some((n * 1e9) as i128);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    let d = Date::parse(s, &Iso8601::DEFAULT).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp_nanos())
}

fn cidr(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Evaluates a whole block: every clause must hold.
pub(crate) fn block_holds(clauses: &[Clause], env: &dyn Lookup, variables: bool) -> bool {
    clauses.iter().all(|c| clause_holds(c, env, variables))
}

fn clause_holds(c: &Clause, env: &dyn Lookup, variables: bool) -> bool {
    c.entries
        .iter()
        .all(|(key, values)| key_holds(c, key, values, env, variables))
}

fn key_holds(c: &Clause, key: &str, policy: &[String], env: &dyn Lookup, variables: bool) -> bool {
    let request = env.values(key).filter(|v| !v.is_empty());
    if c.base == Base::Null {
        // `"Null": {"k": "true"}` holds when k is absent; `"false"` when it is present.
        return policy.iter().any(|p| boolean(p) == Some(request.is_none()));
    }
    let Some(request) = request else {
        return match (c.if_exists, c.set) {
            (true, _) => true,
            (false, Some(SetOp::ForAllValues)) => true,
            (false, Some(SetOp::ForAnyValue)) => false,
            (false, None) => c.base.positive().is_some(),
        };
    };
    // Expand policy variables once per key. A variable the request cannot fill makes the
    // condition — and so the statement — fail, whatever the operator.
    let vars = if variables {
        Some(env as &dyn VarSource)
    } else {
        None
    };
    let Some(expanded) = policy
        .iter()
        .map(|p| expand(p, vars))
        .collect::<Option<Vec<Vec<Tok>>>>()
    else {
        return false;
    };
    let (positive, negated) = match c.base.positive() {
        Some(p) => (p, true),
        None => (c.base, false),
    };
    let any_policy = |r: &str| expanded.iter().any(|p| matches(positive, p, r));
    match c.set {
        // Without a set operator, the operator holds when some request value matches some policy
        // value; a negated operator holds when none does.
        None => request.iter().any(|r| any_policy(r)) != negated,
        Some(SetOp::ForAnyValue) => request.iter().any(|r| any_policy(r) != negated),
        Some(SetOp::ForAllValues) => request.iter().all(|r| any_policy(r) != negated),
    }
}

/// Whether request value `r` satisfies positive operator `op` against policy value `p`.
fn matches(op: Base, p: &[Tok], r: &str) -> bool {
    use Base::*;
    let lit = || pattern::literal(p);
    match op {
        StringEquals => lit() == r,
        StringEqualsIgnoreCase => lit().to_lowercase() == r.to_lowercase(),
        StringLike => pattern::glob(p, r, false),
        BinaryEquals => lit() == r,
        ArnEquals | ArnLike => pattern::arn_match(p, r),
        Bool => matches!((boolean(&lit()), boolean(r)), (Some(a), Some(b)) if a == b),
        IpAddress => {
            matches!((cidr(&lit()), r.trim().parse::<IpAddr>()), (Some(net), Ok(ip)) if net.contains(&ip))
        }
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => match (number(r), number(&lit())) {
            (Some(r), Some(p)) => compare(op, r.partial_cmp(&p)),
            _ => false,
        },
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => match (date(r), date(&lit())) {
            (Some(r), Some(p)) => compare(op, Some(r.cmp(&p))),
            _ => false,
        },
        // Negated operators and Null never reach here.
        _ => false,
    }
}

/// Applies an ordering operator to `request.cmp(policy)`.
fn compare(op: Base, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    use Base::*;
    let Some(ord) = ord else { return false };
    match op {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}
