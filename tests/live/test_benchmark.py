import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.benchmark
@pytest.mark.services
@pytest.mark.timeout(300)
def test_live_benchmark_fans_out_to_every_socket(tmp_path, needs_postgres, needs_redis, transactional_db):
    out = tmp_path / "live.json"
    call_command("benchmark", "live", "--rows", "30", "--json", str(out))
    results = json.loads(out.read_text())["results"]
    assert [r["name"] for r in results] == ["stock async_to_sync(group_send)", "publisher (one Redis client)"]
    for result in results:
        assert result["units"] == 30 and result["extra"]["rounds"] == 40
        assert 0 < result["extra"]["p50_ms"] <= result["extra"]["p99_ms"]
        assert result["extra"]["server_rss_per_connection_kb"] > 0
    assert not get_user_model().objects.filter(username__startswith="live-bench-").exists()
