"""``benchmark webhooks`` runs end to end and delivers every event to every endpoint."""

import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.benchmark, pytest.mark.django_db(transaction=True)]


def test_benchmark_webhooks_delivers_everything(tmp_path):
    out = tmp_path / "webhooks.json"
    call_command("benchmark", "webhooks", "--rows", "20", "--json", str(out))
    results = json.loads(out.read_text())["results"]
    assert [r["name"] for r in results] == ["1 endpoint", "4 endpoints", "16 endpoints"]
    assert [r["extra"]["deliveries"] for r in results] == [20, 80, 320]
    assert all(r["extra"]["not_delivered"] == 0 for r in results)
