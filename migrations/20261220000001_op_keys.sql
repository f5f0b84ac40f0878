-- Issue 21, slice 1: the OpenID Provider's own signing keys, shared by every replica through
-- the database. The private key is PKCS#8 DER, base64, sealed by SecretBox (the key that
-- seals providers' client secrets; context 'op-key:<kid>'), so every replica with the same
-- secret key signs with it and the column alone reveals nothing. A key is 'next' (published,
-- not yet signing: from signs_from), 'current' (signs; one per algorithm) or 'retired'
-- (published until unpublish_at, so tokens it signed still verify). SQLite and PostgreSQL
-- alike (partial unique indexes work on both).
CREATE TABLE op_signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,            -- RS256 | ES256
    private_enc   TEXT NOT NULL,            -- sealed PKCS#8
    public_jwk    TEXT NOT NULL,            -- the JWK as published (JSON)
    state         TEXT NOT NULL,            -- next | current | retired
    created_at    BIGINT NOT NULL,
    signs_from    BIGINT NOT NULL,
    retired_at    BIGINT,
    unpublish_at  BIGINT
);
-- Two replicas starting at once cannot both make a current key (the second insert does
-- nothing and that replica reads the winner's), nor two rotations two next keys.
CREATE UNIQUE INDEX op_signing_keys_current ON op_signing_keys (alg) WHERE state = 'current';
CREATE UNIQUE INDEX op_signing_keys_next ON op_signing_keys (alg) WHERE state = 'next';
