"""The README's Integrators examples, run with curl against a live server."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from catalog.models import Product
from orders.models import Order
from tests.api.conftest import ALL_SCOPES
from tests.factories import ProductFactory

MARKER = "<!-- integrators-examples -->"


def readme_examples() -> str:
    text = (Path(settings.BASE_DIR) / "README.md").read_text()
    after = text.split(MARKER, 1)[1]
    match = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert match, "the Integrators section has no sh block after its marker"
    return match.group(1)


def json_documents(output: str) -> tuple[list, list[str]]:
    """curl prints bodies back to back: split them into JSON documents and the other words (status codes)."""
    decoder, documents, words, index = json.JSONDecoder(), [], [], 0
    while index < len(output):
        if output[index].isspace():
            index += 1
        elif output[index] in "[{":
            document, index = decoder.raw_decode(output, index)
            documents.append(document)
        else:
            end = index
            while end < len(output) and not output[end].isspace() and output[end] not in "[{":
                end += 1
            words.append(output[index:end])
            index = end
    return documents, words


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_readme_curl_examples_run_against_a_live_server(live_server, make_key, tmp_path):
    ProductFactory(sku="GARDEN-HOSE-25", name="Garden hose 25 m", stock=10, status="active")
    _key, secret = make_key(ALL_SCOPES, name="readme")
    script = "set -euo pipefail\n" + readme_examples()
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "BACKOFFICE_URL": live_server.url, "BACKOFFICE_KEY": secret},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    documents, not_modified = json_documents(result.stdout)
    assert not_modified == ["304"]  # the If-None-Match request
    assert documents[-1]["results"][0]["status"] == "shipped"
    assert Product.objects.get(sku="GARDEN-HOSE-25").stock == 28  # 30 counted, 2 sold
    assert Order.objects.get(external_ref="SHOP-100231").carrier == "DHL"
