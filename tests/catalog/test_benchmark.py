import json

import pytest
from django.core.management import call_command

from catalog.models import Product


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_admin_benchmark_compares_with_the_naive_admin_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "admin.json"
    call_command("benchmark", "admin", "--rows", "120", "--json", str(out))
    results = json.loads(out.read_text())["results"]
    ours = [r for r in results if r["name"].startswith("ours")]
    naive = [r for r in results if r["name"].startswith("naive")]
    assert len(ours) == len(naive) == 4
    assert all(r["queries"] <= 10 for r in ours)
    assert all(r["baseline"] and r["baseline"].startswith("naive") for r in ours)
    assert min(r["queries"] for r in naive) > 50  # per-row queries: the point of the comparison
    assert not Product.objects.exists()  # seeded inside a transaction that is rolled back
