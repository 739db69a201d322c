import json

import pytest
from django.core.management import call_command

from catalog.models import Product
from orders.models import Customer, DailySales, Order


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_dashboard_benchmark_checks_the_figures_and_cleans_up(needs_postgres, tmp_path, capsys):
    out = tmp_path / "dashboard.json"
    call_command("benchmark", "dashboard", "--rows", "1500", "--json", str(out))
    assert "the rollup's figures equal the naive computation" in capsys.readouterr().out
    results = json.loads(out.read_text())["results"]

    def named(prefix: str) -> dict:
        return next(r for r in results if r["name"].startswith(prefix))

    naive, cold, warm = named("naive"), named("ours: figures from the rollup, cold"), named("ours: figures, warm")
    assert naive["queries"] == 92 and cold["queries"] == 8 and warm["queries"] == 0
    assert cold["seconds"] < naive["seconds"] and warm["seconds"] < cold["seconds"]
    assert not Order.objects.exists() and not Product.objects.exists() and not Customer.objects.exists()
    assert not DailySales.objects.exists()
