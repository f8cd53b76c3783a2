//! The gateway publishes the keys tokens are verified with: a client that
//! has nothing but `/.well-known/jwks.json` verifies a token from the login
//! with a standard JOSE library (jsonwebtoken), and refuses a forged one.
//! (The same gateway runs with GraphiQL off, as in production, to check
//! that its files then go too.)

use crate::World;
use deedlog_runtime::auth::KeyPair;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

#[tokio::test]
async fn a_login_token_verifies_with_the_published_key_set_alone() {
    // A previous key, still accepted during a rotation, is published too.
    let previous = KeyPair::generate(Some("previous-key".into())).expect("key");
    let previous_pem = previous.public_pem().expect("pem");
    let mut w = World::with(|f| {
        f.merge((
            "auth.public_keys",
            json!([{ "kid": "previous-key", "pem": previous_pem }]),
        ))
        .merge(("gateway.graphiql", false))
    })
    .await;
    w.clients.register("jwks").await;
    let login = "mutation($p: String!) { login(tenantSlug: \"jwks\", email: \"admin@jwks.example\", password: $p) { accessToken userId tenantId } }";
    let session = w
        .gql
        .run(None, login, json!({"p": deedlog_tests::clients::PASSWORD}))
        .await
        .data()["login"]
        .clone();
    let token = session["accessToken"].as_str().expect("an access token");

    let response = w.gql.get("/.well-known/jwks.json").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=300",
        "clients may cache the set"
    );
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/json"));
    let raw: Value = response.json().await.expect("JSON");
    let set: JwkSet = serde_json::from_value(raw.clone()).expect("a JWK Set");
    let kids: Vec<_> = set
        .keys
        .iter()
        .map(|k| k.common.key_id.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(kids, ["previous-key", "test-key"], "{raw}");
    for key in raw["keys"].as_array().expect("keys") {
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
    }

    // Verify as an outside client would: pick the key by the token's kid.
    let audience = &w.cluster.settings.auth;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&audience.issuer]);
    validation.set_audience(&[&audience.audience]);
    let verify = |token: &str| {
        let kid = jsonwebtoken::decode_header(token)
            .expect("a JWT header")
            .kid
            .expect("deedlog's tokens name their key");
        let jwk = set.find(&kid).expect("the token's key is published");
        let key = DecodingKey::from_jwk(jwk).expect("a usable JWK");
        jsonwebtoken::decode::<Value>(token, &key, &validation)
    };
    let claims = verify(token).expect("the login's token verifies").claims;
    assert_eq!(claims["sub"], session["userId"]);
    assert_eq!(claims["tid"], session["tenantId"]);
    assert_eq!(claims["purpose"], "access");

    // The same claims signed by a key that is not published (under the
    // current key's id) do not verify.
    let impostor = KeyPair::generate(Some("test-key".into())).expect("key");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("test-key".into()),
            ..jsonwebtoken::Header::new(Algorithm::EdDSA)
        },
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_pem(
            secrecy::ExposeSecret::expose_secret(&impostor.private_pem().expect("pem")).as_bytes(),
        )
        .expect("an Ed25519 key"),
    )
    .expect("signs");
    let refused = verify(&forged).expect_err("a foreign signature is refused");
    assert_eq!(
        refused.kind(),
        &jsonwebtoken::errors::ErrorKind::InvalidSignature
    );

    // GraphiQL off: no page and none of its files.
    assert_eq!(w.gql.get("/graphql").await.status().as_u16(), 405);
    for asset in &deedlog_gateway::graphiql::ASSETS {
        let status = w.gql.get(asset.path).await.status().as_u16();
        assert_eq!(status, 404, "{}", asset.path);
    }
}
