import json

import pytest
from django.core.management import CommandError, call_command

from backoffice.models import Job


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_jobs_benchmark_runs_both_contenders_and_cleans_up(tmp_path, capsys):
    out = tmp_path / "jobs.json"
    call_command("benchmark", "jobs", "--rows", "300", "--json", str(out))
    printed = capsys.readouterr().out
    assert "naive" in printed and "ours" in printed and "vs baseline" in printed
    report = json.loads(out.read_text())
    assert report["rows"] == 300
    assert [r["units"] for r in report["results"]] == [300, 300]
    assert all(r["queries"] > 0 for r in report["results"])
    assert not Job.objects.exists()


def test_unknown_suite_is_a_clear_error():
    with pytest.raises(CommandError, match=r"Unknown suite 'nope'\. Available: .*jobs"):
        call_command("benchmark", "nope")
