import pytest

from catalog.models import Product, StockMovement
from orders.models import Customer, Order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

STOCK = "/api/v1/stock/adjustments/"
ORDERS = "/api/v1/orders/"


# --- stock ---------------------------------------------------------------------------------------------------


def test_a_batch_applies_every_line(api, key_and_secret):
    a = ProductFactory(sku="A-1", stock=10)
    b = ProductFactory(sku="B-1", stock=0)
    response = api.post(
        STOCK,
        {
            "adjustments": [
                {"sku": "a-1", "delta": -4, "reason": "sale", "reference": "R1"},
                {"sku": "B-1", "quantity": 7, "reason": "adjustment"},
                {"sku": "A-1", "quantity": 6, "reason": "adjustment"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["sku"], r["stock"]) for r in results] == [("A-1", 6), ("B-1", 7), ("A-1", 6)]
    assert results[2]["movement_id"] is None  # already 6: nothing to record
    assert Product.objects.get(pk=a.pk).stock == 6 and Product.objects.get(pk=b.pk).stock == 7
    movements = StockMovement.objects.filter(pk__in=[r["movement_id"] for r in results[:2]])
    assert {m.api_key_id for m in movements} == {key_and_secret[0].pk}


def test_a_batch_with_failing_lines_changes_nothing_and_lists_every_failure(api):
    ProductFactory(sku="A-1", stock=2)
    ProductFactory(sku="B-1", stock=1)
    response = api.post(
        STOCK,
        {
            "adjustments": [
                {"sku": "A-1", "delta": 5, "reason": "receipt"},
                {"sku": "B-1", "delta": -3, "reason": "sale"},
                {"sku": "A-1", "delta": -8, "reason": "sale"},
            ]
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["adjustments[1].delta", "adjustments[2].delta"]
    assert not StockMovement.objects.exists()
    assert sorted(Product.objects.values_list("stock", flat=True)) == [1, 2]


def test_malformed_lines_are_400_with_their_paths(api):
    ProductFactory(sku="A-1")
    response = api.post(
        STOCK,
        {
            "adjustments": [
                {"sku": "A-1", "delta": 1, "quantity": 1, "reason": "receipt"},
                {"sku": "A-1", "delta": 0, "reason": "receipt"},
                {"sku": "A-1", "delta": 10**20, "reason": "nope"},
                {"sku": "MISSING", "delta": 1, "reason": "receipt"},
            ]
        },
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"adjustments[0]", "adjustments[1].delta", "adjustments[2].delta", "adjustments[2].reason"} <= fields
    unknown = api.post(STOCK, {"adjustments": [{"sku": "MISSING", "delta": 1, "reason": "receipt"}]})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "adjustments[0].sku"
    assert api.post(STOCK, {"adjustments": []}).status_code == 400
    assert api.post(STOCK, [1, 2]).status_code == 400


def test_stock_write_scope_is_needed(api_for):
    response = api_for("catalog:write").post(STOCK, {"adjustments": []})
    assert response.status_code == 403 and "stock:write" in response.json()["detail"]


# --- orders ---------------------------------------------------------------------------------------------------


def order_body(**overrides):
    return {
        "external_ref": "SHOP-1",
        "customer": {"email": "Ada@Example.com", "name": "Ada"},
        "lines": [{"sku": "A-1", "quantity": 2}],
        "shipping": "4.90",
        **overrides,
    }


def test_place_an_order_then_the_same_external_ref_is_200(api, key_and_secret):
    ProductFactory(sku="A-1", stock=5)
    first = api.post(ORDERS, order_body())
    assert first.status_code == 201, first.content
    order = first.json()
    assert order["source"] == "api" and order["lines"][0]["quantity"] == 2 and order["shipping"] == "4.90"
    assert order["customer"]["email"] == "Ada@example.com"
    again = api.post(ORDERS, order_body())
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert Order.objects.count() == 1 and Product.objects.get(sku="A-1").stock == 3
    placed = Order.objects.get()
    assert placed.history.earliest().history_api_key_id == key_and_secret[0].pk


def test_domain_refusals_are_422_and_field_errors_400(api):
    ProductFactory(sku="A-1", stock=1)
    ProductFactory(sku="D-1", status="draft")
    short = api.post(ORDERS, order_body(lines=[{"sku": "A-1", "quantity": 2}]))
    assert short.status_code == 422 and short.json()["errors"][0]["code"] == "insufficient_stock"
    draft = api.post(ORDERS, order_body(external_ref="X2", lines=[{"sku": "D-1", "quantity": 1}]))
    assert draft.status_code == 422
    bad = api.post(ORDERS, order_body(external_ref="X3", lines=[{"sku": "A-1", "quantity": 0}, {"sku": "Z"}]))
    fields = {e["field"] for e in bad.json()["errors"]}
    assert bad.status_code == 400 and {"lines[0].quantity", "lines[1].quantity"} <= fields
    address = api.post(
        ORDERS,
        order_body(
            external_ref="X4", customer={"email": "b@example.com", "name": "B", "billing_address": {"city": "Berlin"}}
        ),
    )
    assert address.status_code == 400
    assert "customer.billing_address.line1" in {e["field"] for e in address.json()["errors"]}
    assert not Order.objects.exists()
    assert not Customer.objects.exists()  # a refused order leaves no customer behind either


def test_transition_through_the_lifecycle(api):
    ProductFactory(sku="A-1", stock=5)
    order_id = api.post(ORDERS, order_body()).json()["id"]
    url = f"{ORDERS}{order_id}/transition/"
    assert api.post(url, {"to": "paid"}).json()["status"] == "paid"
    no_carrier = api.post(url, {"to": "shipped"})
    assert no_carrier.status_code == 400 and no_carrier.json()["errors"][0]["field"] == "details.carrier"
    shipped = api.post(url, {"to": "shipped", "details": {"carrier": "DHL", "tracking_number": "123"}})
    assert shipped.status_code == 200 and shipped.json()["carrier"] == "DHL"
    refused = api.post(url, {"to": "pending"})
    assert refused.status_code == 422 and refused.json()["type"].endswith("unprocessable")
    assert api.post(f"{ORDERS}00000000-0000-0000-0000-000000000000/transition/", {"to": "paid"}).status_code == 404


def test_order_list_filters_and_constant_queries(api, django_assert_max_num_queries):
    ProductFactory(sku="A-1", stock=100)
    for i in range(12):
        api.post(ORDERS, order_body(external_ref=f"R{i}", customer={"email": f"c{i % 3}@example.com", "name": "C"}))
    with django_assert_max_num_queries(6):
        small = api.get(ORDERS, {"page_size": 2})
    with django_assert_max_num_queries(6):
        big = api.get(ORDERS, {"page_size": 12})
    assert len(small.json()["results"]) == 2 and len(big.json()["results"]) == 12
    assert len(api.get(ORDERS, {"customer_email": "C1@EXAMPLE.com"}).json()["results"]) == 4
    assert len(api.get(ORDERS, {"status": "pending"}).json()["results"]) == 12
    assert api.get(ORDERS, {"status": "paid"}).json()["results"] == []
    assert api.get(ORDERS, {"updated_since": "2999-01-01T00:00:00Z"}).json()["results"] == []


# --- customers --------------------------------------------------------------------------------------------------


def test_upsert_customer_by_email(api, key_and_secret):
    url = "/api/v1/customers/by-email/ada@example.com/"
    created = api.put(url, {"name": "Ada"})
    assert created.status_code == 201 and created.json()["name"] == "Ada"
    updated = api.put("/api/v1/customers/by-email/ADA@example.com/", {"company": "Engines"})
    assert updated.status_code == 200 and updated.json()["company"] == "Engines"
    assert Customer.objects.count() == 1
    assert Customer.objects.get().history.latest().history_api_key_id == key_and_secret[0].pk
    assert api.put("/api/v1/customers/by-email/not-an-email/", {"name": "x"}).status_code == 400
    assert api.put("/api/v1/customers/by-email/new@example.com/", {}).status_code == 400


def test_customer_list_detail_and_filters(api, django_assert_max_num_queries):
    customers = CustomerFactory.create_batch(5)
    with django_assert_max_num_queries(4):
        body = api.get("/api/v1/customers/").json()
    assert len(body["results"]) == 5
    detail = api.get(f"/api/v1/customers/{customers[0].pk}/").json()
    assert detail["billing_address"]["city"] == "Berlin" and detail["billing_address"]["country"] == "DE"
    one = api.get("/api/v1/customers/", {"email": customers[1].email.upper()}).json()["results"]
    assert [c["id"] for c in one] == [str(customers[1].pk)]


def test_order_representation_is_what_the_api_shows(api):
    from orders.api import order_representation

    ProductFactory(sku="A-1", stock=5)
    order = api.post(ORDERS, order_body()).json()
    assert order_representation(order["id"]) == api.get(f"{ORDERS}{order['id']}/").json() == order
    assert order_representation(Order.objects.get()) == order
    assert order_representation("00000000-0000-0000-0000-000000000000") is None
