//! Ed25519 over a document's canonical JSON: UTF-8, object keys sorted, no insignificant
//! whitespace, non-ASCII characters unescaped (API.md "Household statements"). Signature
//! and public key travel as standard, padded base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The document as it is signed.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (at, key) in keys.into_iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        // serde_json writes scalars compactly and leaves non-ASCII as it is.
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A short, stable name for a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

pub fn public_key_text(key: &VerifyingKey) -> String {
    STANDARD.encode(key.as_bytes())
}

/// A public key as [`public_key_text`] writes it.
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD.decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The canonical text of `document` and its signature.
pub fn sign(key: &SigningKey, document: &Value) -> (String, String) {
    let text = canonical(document);
    let signature = key.sign(text.as_bytes());
    (text, STANDARD.encode(signature.to_bytes()))
}

/// Whether `signature` is `key`'s over `document`'s canonical text.
pub fn verify(key: &VerifyingKey, document: &Value, signature: &str) -> bool {
    let Some(bytes) = STANDARD
        .decode(signature.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    key.verify(
        canonical(document).as_bytes(),
        &Signature::from_bytes(&bytes),
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_keeps_chinese() {
        let doc = json!({"b": [2, {"z": "庆乐村", "a": null}], "a": "10.00", "c": true});
        assert_eq!(
            canonical(&doc),
            r#"{"a":"10.00","b":[2,{"a":null,"z":"庆乐村"}],"c":true}"#
        );
        assert_eq!(
            canonical(&json!({"q": "说\"好\"\n"})),
            r#"{"q":"说\"好\"\n"}"#
        );
    }

    #[test]
    fn a_signature_holds_for_its_document_only() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let doc = json!({"points": "100.00", "head_name": "张小明"});
        let (_, signature) = sign(&key, &doc);
        let public = key.verifying_key();
        assert!(verify(&public, &doc, &signature));
        assert!(!verify(
            &public,
            &json!({"points": "100.01", "head_name": "张小明"}),
            &signature
        ));
        assert!(!verify(&public, &doc, "not base64"));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(!verify(&other, &doc, &signature));
        assert_eq!(parse_public_key(&public_key_text(&public)), Some(public));
    }
}
