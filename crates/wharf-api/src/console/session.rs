//! Console sessions: a random 256-bit id in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
//! when the client reached Wharf over TLS), held in this node's memory for 12 hours and mapped to
//! the access key that signed in. Sessions are per node: behind a load balancer, sign-in sticks
//! to the node that made the session (use sticky sessions), and a restart signs everyone out.
//!
//! The store is keyed by the SHA-256 of the id, so neither a map lookup's timing nor a memory
//! dump gives out a usable cookie. Every form carries the session's CSRF token (another 256
//! random bits), compared in constant time; the sign-in form, before any session exists, is a
//! double submit of a short-lived cookie and a hidden field. Every POST must also come from the
//! console's own origin when the browser says where it came from (`Origin`, `Sec-Fetch-Site`).

use axum::http::{header, HeaderMap, HeaderValue};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a session lasts, as the registry login token does.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The session cookie.
pub const COOKIE: &str = "wharf_console";
/// The sign-in form's double-submit cookie.
pub const SIGNIN_COOKIE: &str = "wharf_console_signin";
/// How long a sign-in form stays usable.
pub const SIGNIN_TTL_SECS: u64 = 3600;
/// At most this many live sessions per node; the oldest goes first past it.
const MAX_SESSIONS: usize = 10_000;

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    hex::encode(buf)
}

/// Constant-time equality of two tokens.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn key_of(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// What a session knows: the access key that signed in (re-checked on every request) and the
/// token its forms must carry.
#[derive(Clone)]
pub struct Session {
    pub access_key_id: String,
    pub csrf: String,
    expires: Instant,
    created: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// This node's sessions.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<[u8; 32], Session>>>,
}

impl Sessions {
    /// Starts a session for an access key; returns the cookie value (the id).
    pub fn create(&self, access_key_id: &str) -> (String, Session) {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            access_key_id: access_key_id.to_string(),
            csrf: random_token(),
            expires: now + SESSION_TTL,
            created: now,
        };
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.created).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        map.insert(key_of(&id), session.clone());
        (id, session)
    }

    /// The live session a cookie value names.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = key_of(id);
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn remove(&self, id: &str) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&key_of(id));
    }

    /// Live sessions (for tests).
    pub fn len(&self) -> usize {
        let now = Instant::now();
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.values().filter(|s| s.expires > now).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value for the console: `HttpOnly`, `SameSite=Strict`, `Secure` over TLS.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Why a POST was refused before its handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// `Sec-Fetch-Site` names another site.
    CrossSite,
    /// `Origin` names another origin (or `null`).
    ForeignOrigin,
}

/// Checks that a POST came from the console's own pages, as far as the browser tells:
/// `Sec-Fetch-Site` must be `same-origin` when present, and `Origin`'s host must be the request's
/// `Host` when present. Clients that send neither (not browsers) still need the form's token.
pub fn check_origin(headers: &HeaderMap) -> Result<(), Forgery> {
    if let Some(site) = headers.get("sec-fetch-site") {
        if site.as_bytes() != b"same-origin" {
            return Err(Forgery::CrossSite);
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| Forgery::ForeignOrigin)?;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or(Forgery::ForeignOrigin)?;
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or(Forgery::ForeignOrigin)?;
        if !authority.eq_ignore_ascii_case(host) {
            return Err(Forgery::ForeignOrigin);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn sessions_live_until_removed() {
        let s = Sessions::default();
        let (id, session) = s.create("AKIAEXAMPLE");
        assert_eq!(id.len(), 64);
        assert_eq!(session.csrf.len(), 64);
        assert_ne!(id, session.csrf);
        assert_eq!(s.get(&id).unwrap().access_key_id, "AKIAEXAMPLE");
        assert!(s.get(&random_token()).is_none());
        assert!(s.get("").is_none());
        s.remove(&id);
        assert!(s.get(&id).is_none());
        assert!(s.is_empty());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[
            ("cookie", "a=1; wharf_console=abc ; b=2"),
            ("cookie", "c=3"),
        ]);
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), Some("3"));
        assert_eq!(cookie(&h, "wharf"), None);
        let v = set_cookie(COOKIE, "abc", "/console", 60, true);
        assert_eq!(
            v.to_str().unwrap(),
            "wharf_console=abc; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let v = set_cookie(COOKIE, "abc", "/console", 60, false);
        assert!(!v.to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn origins() {
        let ok = |pairs: &[(&str, &str)]| check_origin(&headers(pairs));
        assert_eq!(ok(&[]), Ok(()));
        assert_eq!(ok(&[("sec-fetch-site", "same-origin")]), Ok(()));
        assert_eq!(
            ok(&[("sec-fetch-site", "cross-site")]),
            Err(Forgery::CrossSite)
        );
        assert_eq!(
            ok(&[("sec-fetch-site", "same-site")]),
            Err(Forgery::CrossSite)
        );
        let host = ("host", "registry.example:5000");
        assert_eq!(
            ok(&[host, ("origin", "https://registry.example:5000")]),
            Ok(())
        );
        assert_eq!(
            ok(&[host, ("origin", "http://REGISTRY.example:5000")]),
            Ok(())
        );
        assert_eq!(
            ok(&[host, ("origin", "https://evil.example")]),
            Err(Forgery::ForeignOrigin)
        );
        assert_eq!(ok(&[host, ("origin", "null")]), Err(Forgery::ForeignOrigin));
        assert_eq!(ok(&[("origin", "http://a")]), Err(Forgery::ForeignOrigin));
    }

    #[test]
    fn tokens_compare_exactly() {
        let t = random_token();
        assert!(tokens_match(&t, &t.clone()));
        assert!(!tokens_match(&t, &random_token()));
        assert!(!tokens_match(&t, ""));
        assert!(!tokens_match(&t, &t[..63]));
    }
}
