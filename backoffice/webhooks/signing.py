"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, the key being the
base64-decoded part of the secret after ``whsec_``. Imports nothing of Django, so the receiving side
(``webhook_listen``, a test, an integrator copying it) can use it alone."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec allows 24 to 64
DEFAULT_TOLERANCE_SECONDS = 5 * 60


class InvalidSecret(ValueError):
    pass


class VerificationError(ValueError):
    pass


def new_secret(size: int = SECRET_BYTES) -> str:
    if not 24 <= size <= 64:
        raise InvalidSecret("A webhook secret has 24 to 64 random bytes.")
    return PREFIX + base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def secret_key(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise InvalidSecret("A webhook secret starts with whsec_.")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("A webhook secret is whsec_ followed by base64.") from exc
    if not 24 <= len(key) <= 64:
        raise InvalidSecret("A webhook secret has 24 to 64 random bytes.")
    return key


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature, ``v1,<base64>``, of ``body`` sent as message ``msg_id`` at ``timestamp`` (seconds)."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature value: one signature per secret, space-separated."""
    return " ".join(sign(secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in secrets_)


def verify(
    secret: str,
    *,
    msg_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise VerificationError unless one of the header's ``v1`` signatures matches and the timestamp is
    within ``tolerance`` seconds of now (replays of old messages are refused)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError) as exc:
        raise VerificationError("Webhook-Timestamp is not an integer.") from exc
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise VerificationError("Webhook-Timestamp is too far from now.")
    expected = sign(secret, msg_id=msg_id, timestamp=sent_at, body=body).encode()
    for candidate in (signature or "").split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise VerificationError("No signature matches.")
