import json

import pytest
from django.core.management import call_command

from catalog.models import Product
from orders.models import Customer, Order


@pytest.mark.django_db(transaction=True)
def test_orders_benchmark_checks_stock_and_cleans_up(needs_postgres, tmp_path, capsys):
    out = tmp_path / "orders.json"
    call_command("benchmark", "orders", "--rows", "80", "--json", str(out))
    printed = capsys.readouterr().out
    assert "invariant holds for every product" in printed
    results = json.loads(out.read_text())["results"]
    assert [r["units"] for r in results[:2]] == [80, 80]
    assert results[2]["queries"] <= 10
    assert not Order.objects.exists() and not Product.objects.exists() and not Customer.objects.exists()
