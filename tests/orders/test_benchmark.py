import json

import pytest
from django.core.management import call_command

from catalog.models import Product
from orders.models import Customer, Order


@pytest.mark.benchmark
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


@pytest.mark.django_db
def test_bulk_orders_for_the_changelist_benchmark():
    from orders.models import OrderLine
    from orders.seeding import bulk_orders
    from tests.factories import CustomerFactory, ProductFactory

    customers, products = CustomerFactory.create_batch(3), ProductFactory.create_batch(5)
    assert bulk_orders(120, customers=customers, products=products, batch=50) == 120
    assert Order.objects.count() == 120 and OrderLine.objects.filter(order__number__startswith="SO-H").count() >= 120
    order = Order.objects.with_line_stats().first()
    assert order.total == sum(line.line_total for line in order.lines.all())
