//! wharf-kms on the wire, against a one-shot HTTP server on 127.0.0.1 that checks what KMS would:
//! the SigV4 signature (with wharf-sigv4's verifier, over the headers and body actually sent),
//! the awsJson1.1 target and content type. Also the error mapping, the timeout and a refused
//! connection. local-kms does not check signatures, so this is where signing is tested end to end.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wharf_kms::{KmsClient, KmsConfig, KmsError};
use wharf_sigv4::{parse, verify, Payload, SignedRequest, DEFAULT_MAX_SKEW};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// What the server saw: the target, the JSON body and whether the signature verified.
#[derive(Debug)]
struct Seen {
    target: String,
    content_type: String,
    body: serde_json::Value,
    signature: Result<(), String>,
}

/// Serves one request with `status` and `body`; reports what it received.
async fn one_shot(status: u16, body: &'static str) -> (String, oneshot::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let mut parts = line.split_whitespace();
        let method: Method = parts.next().unwrap().parse().unwrap();
        let path = parts.next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        loop {
            line.clear();
            reader.read_line(&mut line).await.unwrap();
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed.split_once(':').unwrap();
            headers.append(
                HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        let len: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let mut raw = vec![0; len];
        reader.read_exact(&mut raw).await.unwrap();
        let req = SignedRequest {
            method: &method,
            path: &path,
            query: "",
            headers: &headers,
            payload: Payload::from_body(&raw),
        };
        let signature = parse(&req)
            .and_then(|auth| {
                auth.check_service("kms")?;
                verify(
                    &auth,
                    &req,
                    SECRET,
                    OffsetDateTime::now_utc(),
                    DEFAULT_MAX_SKEW,
                )
            })
            .map_err(|e| e.to_string());
        let seen = Seen {
            target: headers["x-amz-target"].to_str().unwrap().to_owned(),
            content_type: headers["content-type"].to_str().unwrap().to_owned(),
            body: serde_json::from_slice(&raw).unwrap(),
            signature,
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = reader.into_inner();
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.shutdown().await.ok();
        tx.send(seen).ok();
    });
    (url, rx)
}

fn client(endpoint: String, timeout: Duration) -> KmsClient {
    KmsClient::with_timeout(
        KmsConfig {
            endpoint,
            region: "eu-west-2".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SECRET.into(),
            session_token: Some("session-token".into()),
        },
        timeout,
    )
    .unwrap()
}

#[tokio::test]
async fn requests_are_signed_and_responses_decoded() {
    // "AAAA...": 32 zero bytes; "AQID": [1, 2, 3].
    let (url, seen) = one_shot(
        200,
        r#"{"KeyId":"arn:aws:kms:eu-west-2:111122223333:key/k","Plaintext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","CiphertextBlob":"AQID"}"#,
    )
    .await;
    let kms = client(url, Duration::from_secs(10));
    let ctx = BTreeMap::from([("wharf:repo".to_owned(), "team/app".to_owned())]);
    let pair = kms.generate_data_key("alias/wharf", &ctx).await.unwrap();
    assert_eq!(pair.plaintext.as_slice(), &[0u8; 32]);
    assert_eq!(pair.ciphertext, vec![1, 2, 3]);
    assert_eq!(pair.key_arn, "arn:aws:kms:eu-west-2:111122223333:key/k");

    let seen = seen.await.unwrap();
    assert_eq!(seen.signature, Ok(()), "{seen:?}");
    assert_eq!(seen.target, "TrentService.GenerateDataKey");
    assert_eq!(seen.content_type, "application/x-amz-json-1.1");
    assert_eq!(
        seen.body,
        serde_json::json!({"KeyId": "alias/wharf", "KeySpec": "AES_256",
            "EncryptionContext": {"wharf:repo": "team/app"}})
    );
}

#[tokio::test]
async fn decrypt_names_the_key_and_sends_the_blob() {
    let (url, seen) = one_shot(200, r#"{"KeyId":"arn:k","Plaintext":"c2VjcmV0"}"#).await;
    let kms = client(url, Duration::from_secs(10));
    let (plain, arn) = kms
        .decrypt(&[1, 2, 3], "arn:k", &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(plain.as_slice(), b"secret");
    assert_eq!(arn, "arn:k");
    let seen = seen.await.unwrap();
    assert_eq!(seen.signature, Ok(()));
    assert_eq!(seen.target, "TrentService.Decrypt");
    assert_eq!(
        seen.body,
        serde_json::json!({"KeyId": "arn:k", "CiphertextBlob": "AQID"})
    );
}

#[tokio::test]
async fn a_short_data_key_is_a_protocol_error() {
    let (url, _seen) = one_shot(
        200,
        r#"{"KeyId":"arn:k","Plaintext":"c2VjcmV0","CiphertextBlob":"AQID"}"#,
    )
    .await;
    let err = client(url, Duration::from_secs(10))
        .generate_data_key("k", &BTreeMap::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "Protocol", "{err}");
}

#[tokio::test]
async fn service_errors_keep_code_and_message() {
    let (url, _seen) = one_shot(
        400,
        r#"{"__type":"com.amazonaws.kms#KMSInvalidStateException","message":"arn:k is pending deletion."}"#,
    )
    .await;
    let err = client(url, Duration::from_secs(10))
        .describe_key("arn:k")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        KmsError::Service {
            code: "KMSInvalidStateException".into(),
            message: "arn:k is pending deletion.".into()
        }
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let started = std::time::Instant::now();
    let err = client(url, Duration::from_millis(300))
        .describe_key("k")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KmsError::Transport(m) if m.contains("timed out")),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!err.to_string().contains(SECRET));
    hold.abort();
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // Bind then drop: the port is (almost certainly) closed for the moment.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = client(format!("http://{addr}"), Duration::from_secs(5))
        .describe_key("k")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "Transport", "{err}");
    assert!(err.to_string().contains("could not connect"), "{err}");
}
