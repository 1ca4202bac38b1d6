"""CDS Hooks 2.0 authentication: the EHR's JWT, verified against the configured JWKS.

Every request to the CDS service carries ``Authorization: Bearer <JWT>`` signed by the
EHR (CDS Hooks 2.0, "Trusting CDS Clients"). :func:`verify_client` checks, with PyJWT:

- the signature, with the key of the JWT's ``kid`` in the configured JSON Web Key Set
  (``SPRINTCLEAR_CDS_JWKS_FILE``; a ``jku`` header is not followed: only configured keys
  are trusted), for an asymmetric algorithm (RS/PS/ES 256–512; ``none`` and HMAC refused);
- the claims ``iss``, ``sub``, ``aud``, ``exp``, ``iat`` and ``jti`` present; ``exp`` not
  passed; ``aud`` the URL of the endpoint called (or ``SPRINTCLEAR_CDS_AUDIENCE`` and the
  endpoint below it, behind a proxy).

A missing, malformed or unverifiable token raises ``NotAuthenticated`` (401); no JWKS
configured raises ``NotConfigured`` (503).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from rules.errors import NotAuthenticated, NotConfigured

__all__ = ["ALGORITHMS", "CdsClient", "load_jwks", "verify_client"]

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "ES512")


@dataclass(frozen=True, slots=True)
class CdsClient:
    """Who called: the JWT's issuer (the EHR), subject (its client id) and token id."""

    issuer: str
    subject: str
    token_id: str


def load_jwks(path: Path | None) -> jwt.PyJWKSet | None:
    """The configured key set, or None when none is configured."""
    if path is None:
        return None
    try:
        return jwt.PyJWKSet.from_dict(json.loads(path.read_text("utf-8")))
    except (OSError, ValueError, jwt.PyJWKSetError) as exc:
        raise NotConfigured(f"SPRINTCLEAR_CDS_JWKS_FILE {path} is not a usable JSON Web Key "
                            f"Set: {exc}") from exc


def verify_client(authorization: str | None, *, jwks: jwt.PyJWKSet | None,
                  audiences: list[str]) -> CdsClient:
    """The verified caller of a CDS Hooks request (see the module)."""
    if jwks is None:
        raise NotConfigured("the CDS Hooks service needs the EHRs' keys: set "
                            "SPRINTCLEAR_CDS_JWKS_FILE")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a CDS Hooks request needs 'Authorization: Bearer <JWT>' "
                               "signed by the EHR")
    try:
        header = jwt.get_unverified_header(token.strip())
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise NotAuthenticated(f"the JWT's algorithm {algorithm!r} is not accepted "
                                   f"({', '.join(ALGORITHMS)})")
        key = _key(jwks, header)
        claims: dict[str, Any] = jwt.decode(
            token.strip(), key=key.key, algorithms=[algorithm], audience=audiences,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"the JWT is not valid: {exc}") from exc
    return CdsClient(issuer=str(claims["iss"]), subject=str(claims["sub"]),
                     token_id=str(claims["jti"]))


def _key(jwks: jwt.PyJWKSet, header: dict[str, Any]) -> jwt.PyJWK:
    kid = header.get("kid")
    if kid is None:
        if len(jwks.keys) == 1:
            return jwks.keys[0]
        raise NotAuthenticated("the JWT has no kid, and more than one key is configured")
    for key in jwks.keys:
        if key.key_id == kid:
            return key
    raise NotAuthenticated(f"the JWT's key {kid!r} is not among the configured keys")
