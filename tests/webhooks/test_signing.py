"""Signatures as the Standard Webhooks spec computes them, independently of our code."""

import base64
import hashlib
import hmac

import pytest

from backoffice.webhooks import sign
from backoffice.webhooks.signing import (
    InvalidSecret,
    VerificationError,
    new_secret,
    secret_key,
    signature_header,
    verify,
)


def reference_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    # The spec: key = base64-decode(secret without "whsec_"); content = "{id}.{timestamp}.{body}";
    # signature = "v1," + base64(HMAC-SHA256(key, content)).
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{msg_id}.{timestamp}.{body.decode()}".encode()
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def test_the_spec_example():
    # The example of the Standard Webhooks specification (and its reference libraries' tests).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    body = b'{"test": 2432232314}'
    assert sign(secret, msg_id=msg_id, timestamp=1614265330, body=body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_matches_the_reference_algorithm_for_our_secrets():
    secret = new_secret()
    body = '{"type":"order.paid","data":{"ü":1}}'.encode()
    assert sign(secret, msg_id="evt_1", timestamp=1700000000, body=body) == reference_signature(
        secret, "evt_1", 1700000000, body
    )


def test_secrets_are_whsec_base64_of_24_to_64_bytes():
    assert 24 <= len(secret_key(new_secret())) <= 64
    assert len(secret_key(new_secret(24))) == 24
    with pytest.raises(InvalidSecret):
        new_secret(16)
    for bad in ("nope", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_header_carries_one_signature_per_secret():
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], msg_id="evt_2", timestamp=1700000001, body=b"{}")
    assert header.split(" ") == [
        reference_signature(new, "evt_2", 1700000001, b"{}"),
        reference_signature(old, "evt_2", 1700000001, b"{}"),
    ]


def test_verify_accepts_either_secret_and_refuses_tampering_and_replays():
    old, new = new_secret(), new_secret()
    header = signature_header([new, old], msg_id="evt_3", timestamp=1700000000, body=b"{}")
    for secret in (old, new):
        verify(secret, msg_id="evt_3", timestamp="1700000000", signature=header, body=b"{}", now=1700000010)
    with pytest.raises(VerificationError):
        verify(new, msg_id="evt_3", timestamp="1700000000", signature=header, body=b"{ }", now=1700000010)
    with pytest.raises(VerificationError):
        verify(new, msg_id="evt_4", timestamp="1700000000", signature=header, body=b"{}", now=1700000010)
    with pytest.raises(VerificationError):
        verify(new, msg_id="evt_3", timestamp="1700000000", signature=header, body=b"{}", now=1700009999)
    with pytest.raises(VerificationError):
        verify(new, msg_id="evt_3", timestamp="soon", signature=header, body=b"{}")
