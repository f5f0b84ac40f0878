//! The OpenID Provider's signer: `aws-lc-rs` signs (RSA PKCS#1 v1.5 SHA-256 and ECDSA P-256
//! with the fixed `r‖s` encoding JWS needs, constant-time) behind `openidconnect`'s
//! `PrivateSigningKey`, so `IdToken::new` builds every JWT and no JWT or JWK code is written
//! here. The crate has a private RSA key type (`CoreRsaPrivateSigningKey`, over the `rsa`
//! crate, whose private-key operations carry RUSTSEC-2023-0071) and none for EC keys; its
//! trait is public, so this one type serves both. `aws-lc-rs` (AWS-LC, BoringSSL's
//! descendant, with `ring`'s API) rather than `ring`: an RS256 signature is one of the
//! largest costs of a sign-in at the token endpoint, and it signs RSA-2048 in 0.28 ms
//! against ring's 0.47 ms here (bench #12); it also generates the keys.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use openidconnect::core::{CoreJsonCurveType, CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKeyId, PrivateSigningKey, SigningError};

/// The algorithms Portcullis signs with (never `none`, never a symmetric one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Rs256, Alg::Es256];

    /// The JWS name, as stored and advertised.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    pub fn parse(name: &str) -> Option<Alg> {
        Alg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    pub fn jws(self) -> CoreJwsSigningAlgorithm {
        match self {
            Alg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Alg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        }
    }
}

/// A new private key, PKCS#8 DER (sealed with `SecretBox` before it is stored). RSA-2048
/// takes a moment: call it off the async threads.
pub fn generate(alg: Alg) -> Result<Vec<u8>, String> {
    match alg {
        Alg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "generating an RSA key failed".to_owned())?
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| "encoding an RSA key failed".to_owned()),
        Alg::Es256 => {
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map(|d| d.as_ref().to_vec())
                .map_err(|_| "generating a P-256 key failed".to_owned())
        }
    }
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A signing key as `IdToken::new` takes it; `public` is the JWK published for it.
pub struct OpSigningKey {
    alg: Alg,
    kid: String,
    pair: Pair,
    public: CoreJsonWebKey,
}

impl std::fmt::Debug for OpSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpSigningKey({} {})", self.alg.name(), self.kid)
    }
}

impl OpSigningKey {
    /// From a PKCS#8 private key. The public JWK carries `kid` and `use: sig`; `alg` cannot be
    /// set (the crate keeps that field private; RFC 7517 makes it optional, and a JWT's
    /// header names its algorithm).
    pub fn load(alg: Alg, pkcs8: &[u8], kid: &str) -> Result<Self, String> {
        let key_id = Some(JsonWebKeyId::new(kid.to_owned()));
        let (pair, public) = match alg {
            Alg::Rs256 => {
                let k = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| format!("an RSA key: {e}"))?;
                let c: RsaPublicKeyComponents<Vec<u8>> = k.public_key().into();
                let public = CoreJsonWebKey::new_rsa(c.n, c.e, key_id);
                (Pair::Rsa(k), public)
            }
            Alg::Es256 => {
                let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(|e| format!("a P-256 key: {e}"))?;
                // Uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each.
                let p = k.public_key().as_ref();
                if p.len() != 65 || p[0] != 4 {
                    return Err("a P-256 public key of unexpected form".to_owned());
                }
                let public = CoreJsonWebKey::new_ec(
                    p[1..33].to_vec(),
                    p[33..65].to_vec(),
                    CoreJsonCurveType::P256,
                    key_id,
                );
                (Pair::Ec(k), public)
            }
        };
        Ok(Self {
            alg,
            kid: kid.to_owned(),
            pair,
            public,
        })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as published in the JWKS.
    pub fn public_jwk(&self) -> &CoreJsonWebKey {
        &self.public
    }
}

impl PrivateSigningKey for OpSigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(&self, alg: &CoreJwsSigningAlgorithm, msg: &[u8]) -> Result<Vec<u8>, SigningError> {
        let rng = SystemRandom::new();
        match (&self.pair, alg) {
            (Pair::Rsa(k), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(|_| SigningError::CryptoError)?;
                Ok(sig)
            }
            (Pair::Ec(k), CoreJwsSigningAlgorithm::EcdsaP256Sha256) => k
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SigningError::CryptoError),
            (_, other) => Err(SigningError::UnsupportedAlg(format!("{other:?}"))),
        }
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        self.public.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::JsonWebKey;

    /// Each algorithm signs through the crate's trait and its published key verifies it; a
    /// key refuses the other algorithm; a changed message does not verify.
    #[test]
    fn signs_and_the_public_key_verifies() {
        for alg in Alg::ALL {
            let der = generate(alg).unwrap();
            let key = OpSigningKey::load(alg, &der, "k1").unwrap();
            let sig = key.sign(&alg.jws(), b"header.payload").unwrap();
            let public = key.as_verification_key();
            assert_eq!(public.key_id().unwrap().as_str(), "k1");
            public
                .verify_signature(&alg.jws(), b"header.payload", &sig)
                .unwrap();
            assert!(
                public
                    .verify_signature(&alg.jws(), b"header.payloaD", &sig)
                    .is_err()
            );
            let other = Alg::ALL.into_iter().find(|a| *a != alg).unwrap();
            assert!(key.sign(&other.jws(), b"x").is_err());
            let json = serde_json::to_value(&public).unwrap();
            assert_eq!(json["use"], "sig");
            assert!(json.get("d").is_none(), "no private member: {json}");
        }
    }

    #[test]
    fn names_round_trip() {
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.name()), Some(alg));
            assert_eq!(Alg::parse(&alg.name().to_lowercase()), Some(alg));
        }
        assert_eq!(Alg::parse("none"), None);
        assert_eq!(Alg::parse("HS256"), None);
    }
}
