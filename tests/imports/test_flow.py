"""The import engine and the export: round trips, input variants, all-or-nothing, undo, the fast exporter."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from backoffice import exports
from backoffice.imports import UndoRefused, engine, undo_import
from backoffice.imports.models import ImportBatch, ImportRow
from backoffice.imports.text import escape_formula, parse_decimal, unescape_formula
from catalog import services
from catalog.models import Product, StockMovement
from catalog.resources import ProductResource
from orders.models import Customer
from orders.resources import CustomerResource
from tests.factories import CustomerFactory, ProductFactory
from tests.imports.conftest import csv_bytes, upload_file, xlsx_bytes

pytestmark = pytest.mark.django_db


def run(name, data, user, resource="catalog.product"):
    batch = engine.upload(upload_file(name, data), resource=resource, user=user)
    return engine.validate(batch)


def apply(batch, user):
    assert engine.claim_for_apply(batch)
    return engine.apply(batch, user=user)


def rows_of(batch, status=None):
    rows = ImportRow.objects.filter(batch=batch)
    return list(rows.filter(status=status) if status else rows)


# --- the formula rule --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+49 30 123", "-5", "@SUM(A1)", "\tx", "'=x", "''-1", "plain", "'quoted"])
def test_escape_then_unescape_is_identity(text):
    assert unescape_formula(escape_formula(text)) == text


def test_escape_only_text():
    assert escape_formula("=1") == "'=1"
    assert escape_formula(-5) == -5
    assert escape_formula(Decimal("-5.00")) == Decimal("-5.00")


def test_decimal_rule():
    assert parse_decimal("1234,50") == Decimal("1234.50") == parse_decimal("1234.50")
    assert parse_decimal(9.9) == Decimal("9.9")
    for bad in ("1.234,50", "1 234", "1'234", "12a"):
        with pytest.raises(ValidationError):
            parse_decimal(bad)


# --- round trip ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_unchanged_round_trip_is_all_unchanged(catalogue, importer, fmt):
    CustomerFactory(phone="+49 30 1234567", notes="=cmd|' /C calc'!A0", company="-5 GmbH")
    product_data = exports.export_bytes(ProductResource(), Product.objects.order_by("sku"), fmt)
    batch = run(f"products.{fmt}", product_data, importer)
    assert (batch.status, batch.total_rows, batch.unchanged_rows) == ("validated", 1, 1), rows_of(batch)
    customer_data = exports.export_bytes(CustomerResource(), Customer.objects.all(), fmt)
    batch = run(f"customers.{fmt}", customer_data, importer, resource="orders.customer")
    assert (batch.status, batch.unchanged_rows) == ("validated", 1), rows_of(batch)


def test_export_escapes_formulas_and_types_xlsx_cells(catalogue):
    text = exports.export_bytes(ProductResource(), Product.objects.all(), "csv").decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"] == '\'=HYPERLINK("http://x")'
    assert row["description"] == "'-5 degrees safe\nsecond line"
    assert row["price"] == "12.90"
    sheet = load_workbook(io.BytesIO(exports.export_bytes(ProductResource(), Product.objects.all(), "xlsx"))).active
    headers = [c.value for c in sheet[1]]
    values = dict(zip(headers, [c.value for c in sheet[2]], strict=True))
    assert values["name"] == '\'=HYPERLINK("http://x")' and sheet.cell(2, headers.index("name") + 1).data_type == "s"
    assert isinstance(values["price"], (int, float)) and values["price"] == pytest.approx(12.9)
    assert isinstance(values["stock"], int) and values["stock"] == 10
    assert sheet.cell(2, headers.index("updated_at") + 1).is_date


def test_fast_exporter_equals_resource_export(db):
    products = ProductFactory.create_batch(1000, name="=risky")
    services.update_product(products[0], description="+49 123")
    queryset = Product.objects.order_by("sku")
    resource = ProductResource()
    expected = resource.export(queryset=queryset)
    fast = list(exports.iter_rows(resource, queryset))
    assert fast[0] == expected.headers
    assert fast[1:] == [list(row) for row in expected]


def test_xlsx_export_over_the_sheet_limit_is_refused():
    with pytest.raises(ValidationError, match="CSV"):
        exports.check_size("xlsx", 1_048_576)
    exports.check_size("csv", 5_000_000)


# --- input variants ----------------------------------------------------------------------------------------------

HEADER = "sku,name,price,category,stock\n"


@pytest.mark.parametrize("bom", [True, False])
def test_csv_utf8_with_and_without_bom(catalogue, importer, bom):
    batch = run("p.csv", csv_bytes(HEADER + "NEW-1,Tasse für Ümit,3.50,mugs,4\n", bom=bom), importer)
    assert batch.headers[0] == "sku" and batch.new_rows == 1
    assert rows_of(batch)[0].changes["name"] == ["", "Tasse für Ümit"]


def test_csv_semicolons_decimal_commas_and_quoted_newlines(catalogue, importer):
    data = csv_bytes('sku;name;price;category\nNEW-1;"two\nlines";3,50;Kitchen / Mugs\nNEW-2;x;1.234,5;mugs\n')
    batch = run("p.csv", data, importer)
    new, invalid = rows_of(batch, "new"), rows_of(batch, "invalid")
    assert new[0].number == 2 and new[0].changes["name"][1] == "two\nlines" and new[0].changes["price"][1] == "3.50"
    assert invalid[0].number == 3 and invalid[0].errors[0][0] == "price"


def test_undecodable_csv_is_a_clear_error(catalogue, importer):
    with pytest.raises(ValidationError, match=r"not UTF-8.*Windows-1252"):
        engine.upload(
            upload_file("p.csv", (HEADER + "X,Caf\xe9,1,mugs,1\n").encode("cp1252")),
            resource="catalog.product",
            user=importer,
        )
    with pytest.raises(ValidationError, match="UTF-16"):
        engine.upload(upload_file("p.csv", HEADER.encode("utf-16")), resource="catalog.product", user=importer)
    assert not ImportBatch.objects.exists()


def test_xlsx_formula_values_and_trailing_empties(catalogue, importer):
    data = xlsx_bytes(
        [
            ["sku", "name", "price", "category", "stock", None, None],
            ["NEW-1", "A", 2.5, "mugs", 3, None, None],
            ["NEW-2", "B", "=1+1", "mugs", 1],  # written by a library: no cached value
            [None, None, None, None, None, None, None],
            [None],
        ]
    )
    batch = run("p.xlsx", data, importer)
    assert batch.headers == ["sku", "name", "price", "category", "stock"]
    assert batch.total_rows == 2 and batch.new_rows == 1
    error = rows_of(batch, "invalid")[0]
    assert error.number == 3 and error.errors[0][0] == "price" and "formula" in error.errors[0][1]


def test_duplicate_keys_are_an_error_on_both_rows(catalogue, importer):
    batch = run("p.csv", csv_bytes(HEADER + "DUP-1,A,1,mugs,1\ndup-1,B,1,mugs,1\nOK-1,C,1,mugs,1\n"), importer)
    assert sorted(r.number for r in rows_of(batch, "invalid")) == [2, 3]
    assert "row 3" in rows_of(batch, "invalid")[0].errors[0][1]


def test_too_many_rows_and_too_big(catalogue, importer, settings):
    settings.IMPORT_MAX_ROWS = 2
    with pytest.raises(ValidationError, match="more than 2 rows"):
        run("p.csv", csv_bytes(HEADER + "A,a,1,mugs,1\nB,b,1,mugs,1\nC,c,1,mugs,1\n"), importer)
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="MB"):
        run("p.csv", csv_bytes(HEADER), importer)


# --- all or nothing ------------------------------------------------------------------------------------------------


def test_an_invalid_row_writes_nothing(catalogue, importer):
    batch = run("p.csv", csv_bytes(HEADER + "NEW-1,A,1,mugs,1\nMUG-1,Renamed,-3,mugs,1\n"), importer)
    assert batch.status == "invalid"
    assert not engine.claim_for_apply(batch)
    assert not Product.objects.filter(sku="NEW-1").exists()
    content, name, _type = engine.failed_rows_file(batch)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][-1] == "error" and rows[1][:2] == ["MUG-1", "Renamed"] and "price" in rows[1][-1]
    assert len(rows) == 2 and name.endswith("-failed.csv")


def test_a_row_that_turned_invalid_after_the_preview_rolls_everything_back(catalogue, importer):
    batch = run(
        "p.csv", csv_bytes("sku,name,price,category,brand\nNEW-1,A,1,mugs,Acme\nMUG-1,B,2,mugs,Acme\n"), importer
    )
    assert batch.status == "validated"
    catalogue["brand"].delete()  # between preview and confirm
    assert engine.claim_for_apply(batch)
    with pytest.raises(ValidationError, match="Row 2"):
        engine.apply(batch, user=importer)
    batch.refresh_from_db()
    assert batch.status == "invalid" and "Nothing was imported" in batch.message
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert Product.objects.get(sku="MUG-1").name.startswith("=HYPERLINK")


def test_job_path_is_all_or_nothing_too(catalogue, importer, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_THRESHOLD = 1
    batch = engine.upload(
        upload_file("p.csv", csv_bytes("sku,name,price,category,brand\nNEW-1,A,1,mugs,\nNEW-2,B,2,mugs,acme\n")),
        resource="catalog.product",
        user=importer,
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = engine.start_validation(batch, user=importer)
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == "succeeded" and batch.status == "validated" and job.done == 2
    catalogue["brand"].delete()  # row 3 turns invalid between the preview and the confirm
    with django_capture_on_commit_callbacks(execute=True):
        job = engine.start_apply(batch, user=importer)
    job.refresh_from_db()
    batch.refresh_from_db()
    assert job.status == "failed"
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert batch.status == "invalid" and "Row 3" in job.message


def test_bulk_path_writes_history_ledger_and_updated_at(
    catalogue, importer, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_JOB_THRESHOLD = 1
    product = catalogue["product"]
    before = Product.objects.get(pk=product.pk).updated_at
    data = csv_bytes("sku,name,price,category,stock,tags\nmug-1,Renamed,12.90,mugs,7,blue\nNEW-1,New,1,mugs,3,red\n")
    batch = engine.upload(upload_file("p.csv", data), resource="catalog.product", user=importer)
    engine.validate(batch)
    with django_capture_on_commit_callbacks(execute=True):
        engine.start_apply(batch, user=importer)
    batch.refresh_from_db()
    assert batch.status == "applied" and (batch.new_rows, batch.updated_rows) == (1, 1)
    product.refresh_from_db()
    assert product.name == "Renamed" and product.stock == 7 and product.updated_at > before
    assert [t.name for t in product.tags.all()] == ["blue"]
    record = product.history.first()
    assert record.history_import_batch_id == batch.pk and record.history_user == importer
    assert record.history_job_id == batch.job_id
    assert [r.tag.name for r in record.tags.all()] == ["blue"]
    movement = StockMovement.objects.filter(product=product).first()
    assert (movement.delta, movement.reason, movement.import_batch_id) == (-3, "import", batch.pk)
    undo_import(batch, user=importer)
    product.refresh_from_db()
    assert product.stock == 10 and [t.name for t in product.tags.all()] == ["red"]
    assert not Product.objects.filter(sku="NEW-1").exists()


# --- apply, history and undo -----------------------------------------------------------------------------------------


def test_apply_then_undo_field_by_field(catalogue, importer):
    product = catalogue["product"]
    data = csv_bytes(
        "sku,name,price,brand,supplier,tags,stock,category\n"
        'mug-1,Renamed,13.5,,Supplies Ltd,"red, blue",4,Kitchen\n'
        "NEW-1,New,1,acme,SUP1,,3,mugs\n"
    )
    batch = apply(run("p.csv", data, importer), importer)
    assert batch.status == "applied" and batch.new_rows == 1 and batch.updated_rows == 1
    product.refresh_from_db()
    assert (product.name, product.price, product.brand, product.stock) == ("Renamed", Decimal("13.50"), None, 4)
    assert product.category == catalogue["root"]
    record = product.history.first()
    assert (record.history_user, record.history_import_batch_id) == (importer, batch.pk)
    assert StockMovement.objects.filter(import_batch_id=batch.pk, reason="import").count() == 2
    undo_import(batch, user=importer)
    product.refresh_from_db()
    assert (product.name, product.price, product.brand, product.stock) == (
        '=HYPERLINK("http://x")',
        Decimal("12.90"),
        catalogue["brand"],
        10,
    )
    assert product.category == catalogue["mugs"] and [t.name for t in product.tags.all()] == ["red"]
    assert Product.all_objects.get(sku="NEW-1").deleted_at is not None
    assert product.history.first().history_user == importer
    batch.refresh_from_db()
    assert batch.status == "undone"
    with pytest.raises(ValidationError):
        undo_import(batch, user=importer)


def test_undo_refuses_after_a_later_change(catalogue, importer):
    product = catalogue["product"]
    batch = apply(run("p.csv", csv_bytes("sku,name\nMUG-1,Renamed\n"), importer), importer)
    services.update_product(product, name="Changed by hand")
    with pytest.raises(UndoRefused, match="MUG-1"):
        undo_import(batch, user=importer)
    product.refresh_from_db()
    assert product.name == "Changed by hand"


def test_stock_levels_import_and_undo(catalogue, importer):
    data = csv_bytes("sku,quantity,delta\nMUG-1,,-5\n")
    batch = apply(run("s.csv", data, importer, resource="catalog.stock_levels"), importer)
    product = Product.objects.get(sku="MUG-1")
    assert product.stock == 5
    bad = run(
        "s.csv", csv_bytes("sku,quantity,delta\nMUG-1,3,1\nMUG-1x,1,\n"), importer, resource="catalog.stock_levels"
    )
    assert bad.invalid_rows == 2
    undo_import(batch, user=importer)
    product.refresh_from_db()
    assert product.stock == 10


def test_customer_upsert_by_email_ignoring_case(importer):
    customer = CustomerFactory(email="Ada@Example.com", phone="")
    data = csv_bytes("email,name,phone\nada@example.COM,Ada,+44 20 1\nnew@example.com,New,\n")
    batch = apply(run("c.csv", data, importer, resource="orders.customer"), importer)
    customer.refresh_from_db()
    assert customer.phone == "+44 20 1" and batch.new_rows == 1
    assert customer.history.first().history_import_batch_id == batch.pk


def test_repeated_confirm_does_nothing(catalogue, importer):
    batch = run("p.csv", csv_bytes("sku,name\nMUG-1,Renamed\n"), importer)
    engine.start_apply(batch, user=importer)
    with pytest.raises(ValidationError, match="already"):
        engine.start_apply(batch, user=importer)


def test_field_rules_are_checked_for_every_value_even_when_an_equal_one_passed(catalogue, importer):
    # 12.5 and 12.500 are equal decimals, but only one fits the price's two places.
    text = "sku,name,price,category\nNEW-1,A,12.5,mugs\nNEW-2,B,12.500,mugs\nNEW-3,C,12.5,mugs\n"
    batch = run("d.csv", csv_bytes(text), importer)
    invalid = rows_of(batch, "invalid")
    assert [row.number for row in invalid] == [3] and invalid[0].errors[0][0] == "price"
    assert batch.new_rows == 2
