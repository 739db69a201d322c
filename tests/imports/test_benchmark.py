import json

import pytest
from django.core.management import call_command

from catalog.models import Product


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_import_benchmark_compares_with_the_row_by_row_import_and_leaves_nothing(tmp_path):
    out = tmp_path / "import.json"
    call_command("benchmark", "import", "--rows", "40", "--json", str(out))
    results = json.loads(out.read_text())["results"]
    assert results[0]["name"].startswith("django-import-export") and results[0]["units"] == 40
    apply = next(r for r in results if r["name"].startswith("ours: apply"))
    assert apply["units"] == 40 and apply["extra"]["history_records"] == 40
    assert not Product.all_objects.filter(sku__startswith="BENCH-IMP-").exists()


@pytest.mark.benchmark
@pytest.mark.django_db(transaction=True)
def test_export_benchmark_times_csv_and_xlsx_against_the_stock_export(tmp_path):
    out = tmp_path / "export.json"
    call_command("benchmark", "export", "--rows", "30", "--json", str(out))
    results = json.loads(out.read_text())["results"]
    assert [r["extra"]["contender"] for r in results] == ["stock", "csv", "csv", "xlsx"]
    assert [r["units"] for r in results] == [30, 3, 30, 30]
    assert not Product.objects.exists()  # the seeded products are deleted afterwards
