"""Access tokens (JWT), opaque refresh tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "draftsmith"
AUDIENCE = "draftsmith-api"
ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "typ", "sid"]


class InvalidToken(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str  # the refresh family this access token was issued for
    jti: str
    expires_at: datetime


def issue_access_token(
    secret: str, user_id: str, session_id: str, ttl_s: int
) -> tuple[str, AccessClaims]:
    now = datetime.now(UTC)
    claims = AccessClaims(
        user_id, session_id, secrets.token_hex(16), now + timedelta(seconds=ttl_s)
    )
    payload = {
        "sub": user_id,
        "sid": session_id,
        "jti": claims.jti,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": ACCESS_TYPE,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def decode_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience, expiry and type, or raise InvalidToken."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token_expired", "The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid_token", "The access token is not valid.") from exc
    if payload.get("typ") != ACCESS_TYPE:
        raise InvalidToken("invalid_token", "This is not an access token.")
    if not all(isinstance(payload[k], str) for k in ("sub", "sid", "jti")):
        raise InvalidToken("invalid_token", "The access token is not valid.")
    return AccessClaims(
        payload["sub"], payload["sid"], payload["jti"], datetime.fromtimestamp(payload["exp"], UTC)
    )


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- CSRF: double-submit tokens, HMAC-bound to the session (or to a pre-login nonce) --


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def session_csrf_token(secret: str, session_id: str) -> str:
    return _mac(secret, f"csrf:session:{session_id}")


def anonymous_csrf_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_mac(secret, f'csrf:anon:{nonce}')}"


def anonymous_csrf_valid(secret: str, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    return bool(nonce) and hmac.compare_digest(mac, _mac(secret, f"csrf:anon:{nonce}"))
