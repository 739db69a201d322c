"""The README's verification snippet accepts what we send and refuses a tampered body."""

import re
import time
from pathlib import Path

from backoffice.webhooks.signing import new_secret, signature_header

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verify():
    text = README.read_text()
    section = text[text.index("### Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace["verify"]


def test_readme_snippet_verifies_our_signatures():
    verify = readme_verify()
    old, new = new_secret(), new_secret()
    body = b'{"type":"order.paid","timestamp":"2026-11-25T00:00:00+00:00","data":{}}'
    timestamp = int(time.time())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header([new, old], msg_id="evt_1", timestamp=timestamp, body=body),
    }
    assert verify(new, headers, body) and verify(old, headers, body)
    assert not verify(new, headers, body + b" ")
    assert not verify(new_secret(), headers, body)
    stale = {**headers, "webhook-timestamp": str(timestamp - 3600)}
    assert not verify(new, stale, body)
