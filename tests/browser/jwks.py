"""Verifies a deedlog access token as an outside service would: with PyJWT's
PyJWKClient and nothing but the gateway's /.well-known/jwks.json.

    python jwks.py <gateway base URL> <tenant slug> <email> <password> <issuer and audience>
"""

import json
import sys
import urllib.request

import jwt

LOGIN = """mutation($slug: String!, $email: String!, $password: String!) {
  login(tenantSlug: $slug, email: $email, password: $password) { accessToken userId tenantId }
}"""


def login(base, slug, email, password):
    body = json.dumps(
        {"query": LOGIN, "variables": {"slug": slug, "email": email, "password": password}}
    ).encode()
    request = urllib.request.Request(
        f"{base}/graphql", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("errors"):
        sys.exit(f"login failed: {answer['errors']}")
    return answer["data"]["login"]


def main():
    base, slug, email, password, audience = sys.argv[1:6]
    session = login(base, slug, email, password)
    token = session["accessToken"]

    with urllib.request.urlopen(f"{base}/.well-known/jwks.json", timeout=30) as response:
        cache_control = response.headers.get("cache-control")
        published = json.load(response)
    if cache_control != "public, max-age=300":
        sys.exit(f"unexpected Cache-Control on the JWKS: {cache_control!r}")
    for key in published["keys"]:
        expected = {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"}
        if any(key.get(k) != v for k, v in expected.items()) or not key.get("kid"):
            sys.exit(f"not an Ed25519 signing JWK: {key}")

    client = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
    signing_key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA"],
        audience=audience,
        issuer=audience,
        options={"require": ["exp", "iss", "aud", "sub"]},
    )
    if claims["sub"] != session["userId"] or claims["tid"] != session["tenantId"]:
        sys.exit(f"the token's claims do not match the session: {claims} vs {session}")

    # A token whose signature is changed must not verify.
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    try:
        jwt.decode(
            f"{head}.{payload}.{flipped}",
            signing_key.key,
            algorithms=["EdDSA"],
            audience=audience,
            issuer=audience,
        )
    except jwt.InvalidSignatureError:
        pass
    else:
        sys.exit("a token with a changed signature verified")

    print(
        f"PyJWT {jwt.__version__}: kid {signing_key.key_id} from the JWKS "
        f"({len(published['keys'])} key(s)) verifies the token of user {claims['sub']}"
    )


if __name__ == "__main__":
    main()
