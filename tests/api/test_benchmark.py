import json

import pytest
from django.core.management import call_command

from backoffice.api.models import ApiRequest, IntegrationKey
from catalog.models import Product


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_api_benchmark_compares_with_stock_drf_and_leaves_nothing(tmp_path):
    out = tmp_path / "api.json"
    call_command("benchmark", "api", "--rows", "300", "--json", str(out))
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    ours = [r for name, r in results.items() if name.startswith("ours")]
    assert len(ours) == 3 and all(r["baseline"].startswith("stock DRF") for r in ours)
    page = results["ours: products list, page 2 of 100 with images"]
    assert page["queries"] <= 6
    assert page["seconds"] < results[page["baseline"]]["seconds"]
    log_on = results["request log on: brands, page of 1"]
    assert log_on["baseline"] == "request log off: brands, page of 1"
    assert 0 < log_on["extra"]["log_us_per_request"] < 10_000
    assert not Product.objects.exists() and not IntegrationKey.objects.exists()  # rolled back
    assert not ApiRequest.objects.exists()
