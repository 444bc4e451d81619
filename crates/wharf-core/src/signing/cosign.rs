//! Cosign-compatible signatures, pure: the "simple signing" payload, ECDSA P-256 keys (PKCS#8
//! private, SubjectPublicKeyInfo public, PEM for `cosign verify --key`), signing and verifying,
//! and the signature's OCI image manifest.
//!
//! The layout cosign looks for (`cosign verify` reads the tag `sha256-<hex>.sig`):
//!
//! ```text
//! manifest (application/vnd.oci.image.manifest.v1+json, subject = the signed image)
//! ├── config  application/vnd.oci.image.config.v1+json   cosign's empty image config
//! └── layer   application/vnd.dev.cosign.simplesigning.v1+json   the payload below
//!     └── annotation dev.cosignproject.cosign/signature = base64(ECDSA-SHA256 DER over the payload)
//! ```

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};
use serde_json::json;
use wharf_oci::{Algorithm, Digest};

/// The media type of the payload layer.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation carrying the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// DER of the SubjectPublicKeyInfo header of an uncompressed P-256 point (id-ecPublicKey,
/// prime256v1, BIT STRING of 66 bytes).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Why a key could not be made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is not a P-256 PKCS#8 document")]
    BadPrivateKey,
    #[error("the public key is not a P-256 SubjectPublicKeyInfo")]
    BadPublicKey,
    #[error("the system random source failed")]
    Random,
}

/// A new key pair: (PKCS#8 private key, SubjectPublicKeyInfo DER public key).
pub fn generate_key() -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| KeyError::Random)?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| KeyError::BadPrivateKey)?;
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    Ok((pkcs8.as_ref().to_vec(), spki))
}

/// The public key in PEM, as `cosign verify --key` reads it.
pub fn public_key_pem(spki: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

/// The simple-signing payload naming `reference` (`<registry>/<repository>`) and the digest.
pub fn payload(reference: &str, digest: &Digest) -> Vec<u8> {
    // Built by hand so the key order is cosign's; serde_json escapes the strings.
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},"type":"cosign container image signature"}},"optional":null}}"#,
        json!(reference),
        json!(digest.to_string()),
    )
    .into_bytes()
}

/// The ECDSA-SHA256 signature (ASN.1 DER) of `message`, base64-encoded as cosign stores it.
pub fn sign(pkcs8: &[u8], message: &[u8]) -> Result<String, KeyError> {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
        .map_err(|_| KeyError::BadPrivateKey)?;
    let sig = pair.sign(&rng, message).map_err(|_| KeyError::Random)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig.as_ref()))
}

/// Whether `signature_b64` is a valid signature of `message` by the key `spki`.
pub fn verify(spki: &[u8], message: &[u8], signature_b64: &str) -> Result<bool, KeyError> {
    let point = spki
        .strip_prefix(&P256_SPKI_PREFIX[..])
        .filter(|p| p.len() == 65)
        .ok_or(KeyError::BadPublicKey)?;
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature_b64) else {
        return Ok(false);
    };
    Ok(UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(message, &sig)
        .is_ok())
}

/// The blobs and manifest of one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureArtifact {
    pub payload: Vec<u8>,
    pub payload_digest: Digest,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub manifest: Vec<u8>,
}

/// The tag cosign looks a signature up by: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex())
}

/// The signature layers of an existing `.sig` manifest (other profiles' signatures of the same
/// image, which cosign keeps side by side as layers); empty when it is not a cosign signature.
pub fn signature_layers(manifest: &[u8]) -> Vec<serde_json::Value> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(manifest) else {
        return Vec::new();
    };
    v["layers"]
        .as_array()
        .map(|layers| {
            layers
                .iter()
                .filter(|l| l["mediaType"] == SIMPLE_SIGNING && l["digest"].is_string())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The signature manifest for an image (`subject`: its media type, digest and size), keeping
/// `others` (layers of earlier signatures, as `signature_layers` returns them) before the new one.
pub fn signature_artifact(
    payload: Vec<u8>,
    signatures_b64: &[String],
    subject: (&str, &Digest, usize),
    others: Vec<serde_json::Value>,
) -> SignatureArtifact {
    let payload_digest = Digest::of(Algorithm::Sha256, &payload);
    let mut layers = others;
    for signature in signatures_b64 {
        layers.push(json!({
            "mediaType": SIMPLE_SIGNING,
            "size": payload.len(),
            "digest": payload_digest.to_string(),
            "annotations": {SIGNATURE_ANNOTATION: signature},
        }));
    }
    let diff_ids: Vec<serde_json::Value> = layers.iter().map(|l| l["digest"].clone()).collect();
    // cosign's own empty image config, naming the payloads as uncompressed layers.
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    }))
    .expect("json serializes");
    let config_digest = Digest::of(Algorithm::Sha256, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": wharf_oci::media::OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest.to_string(),
        },
        "layers": layers,
        "subject": {
            "mediaType": subject.0,
            "size": subject.2,
            "digest": subject.1.to_string(),
        },
    }))
    .expect("json serializes");
    SignatureArtifact {
        payload,
        payload_digest,
        config,
        config_digest,
        manifest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::of(Algorithm::Sha256, b"an image manifest")
    }

    #[test]
    fn payload_is_cosigns_simple_signing_json() {
        let d = digest();
        let p = payload("reg.example:5000/team/app", &d);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"reg.example:5000/team/app"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        // Quotes in a reference cannot break out of the string.
        let odd: serde_json::Value = serde_json::from_slice(&payload("a\"b", &d)).unwrap();
        assert_eq!(odd["critical"]["identity"]["docker-reference"], "a\"b");
    }

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let (private, public) = generate_key().unwrap();
        assert_eq!(public.len(), 91);
        let p = payload("h/r", &digest());
        let sig = sign(&private, &p).unwrap();
        assert!(verify(&public, &p, &sig).unwrap());
        let mut tampered = p.clone();
        tampered[10] ^= 1;
        assert!(!verify(&public, &tampered, &sig).unwrap());
        let (_, other) = generate_key().unwrap();
        assert!(!verify(&other, &p, &sig).unwrap());
        assert!(!verify(&public, &p, "not base64!").unwrap());
        assert_eq!(verify(&public[1..], &p, &sig), Err(KeyError::BadPublicKey));
        assert_eq!(sign(b"junk", &p), Err(KeyError::BadPrivateKey));
    }

    #[test]
    fn pem_wraps_the_spki_at_64_columns() {
        let (_, public) = generate_key().unwrap();
        let pem = public_key_pem(&public);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(*lines.last().unwrap(), "-----END PUBLIC KEY-----");
        assert!(lines[1..lines.len() - 1].iter().all(|l| l.len() <= 64));
        let body: String = lines[1..lines.len() - 1].concat();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap(),
            public
        );
    }

    #[test]
    fn the_signature_manifest_names_payload_config_and_subject() {
        let d = digest();
        let p = payload("h/r", &d);
        let a = signature_artifact(
            p.clone(),
            &["c2ln".to_string()],
            (wharf_oci::media::OCI_MANIFEST, &d, 123),
            Vec::new(),
        );
        let m: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["layers"][0]["mediaType"], SIMPLE_SIGNING);
        assert_eq!(m["layers"][0]["digest"], a.payload_digest.to_string());
        assert_eq!(m["layers"][0]["size"], p.len());
        assert_eq!(m["layers"][0]["annotations"][SIGNATURE_ANNOTATION], "c2ln");
        assert_eq!(m["config"]["digest"], a.config_digest.to_string());
        assert_eq!(m["subject"]["digest"], d.to_string());
        assert_eq!(m["subject"]["size"], 123);
        assert_eq!(a.payload_digest, Digest::of(Algorithm::Sha256, &p));
        let parsed = wharf_oci::Manifest::parse(&a.manifest, Some(wharf_oci::media::OCI_MANIFEST));
        assert!(parsed.is_ok(), "{parsed:?}");
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", d.hex()));

        // A second signature keeps the first as an earlier layer.
        let first = signature_layers(&a.manifest);
        assert_eq!(first.len(), 1);
        let b = signature_artifact(
            p,
            &["b3RoZXI=".to_string()],
            (wharf_oci::media::OCI_MANIFEST, &d, 123),
            first,
        );
        let m: serde_json::Value = serde_json::from_slice(&b.manifest).unwrap();
        let sigs: Vec<&str> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["annotations"][SIGNATURE_ANNOTATION].as_str().unwrap())
            .collect();
        assert_eq!(sigs, ["c2ln", "b3RoZXI="]);
        let config: serde_json::Value = serde_json::from_slice(&b.config).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        assert!(signature_layers(b"not json").is_empty());
    }
}
