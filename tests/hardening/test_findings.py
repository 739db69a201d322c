"""One regression test per finding of issue 11 ("no input, however hostile, gives a 500, a hang or
a half-written state"). Each checks the answer and that nothing was written."""

import uuid

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse

from backoffice import jobs
from backoffice.models import Job
from catalog.models import Category, Product, StockMovement
from orders.models import Customer, Order
from orders.services import place_order
from tests.factories import BrandFactory, CategoryFactory, CustomerFactory, ProductFactory, TagFactory
from tests.test_admin_robustness import table_counts

# reset_lockouts: no login lockout left from an earlier run (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_lockouts")]

UNKNOWN = str(uuid.uuid4())


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def product():
    return ProductFactory(stock=5)


@pytest.fixture
def order(product):
    return place_order(customer=CustomerFactory(), lines=[(product, 1)])


@pytest.fixture
def unchanged(db):
    """Asserts after the test that no table of the project gained or lost a row."""
    before = table_counts()
    yield
    assert table_counts() == before


# --- 1. ids that are not ids --------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["not-a-uuid", UNKNOWN, "1", "%00"])
@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/product/{}/history/",
        "/admin/orders/customer/{}/history/",
        "/admin/orders/order/{}/change/",
        "/admin/backoffice/job/{}/change/",
        "/admin/catalog/product/{}/adjust-stock/",
        "/admin/orders/order/{}/mark-paid/",
        "/admin/orders/order/{}/ship/",
        "/admin/orders/order/{}/deliver/",
        "/admin/orders/order/{}/cancel/",
        "/admin/orders/order/{}/packing-slip/",
        "/admin/orders/order/{}/packing-slip-link/",
        "/admin/backoffice/job/{}/cancel/",
        "/admin/backoffice/job/{}/retry/",
        "/admin/backoffice/job/{}/progress/",
        "/admin/media_pipeline/imageasset/{}/regenerate/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_or_malformed_id_is_the_usual_does_not_exist_redirect(
    admin_client, order, unchanged, url, bad_id, method
):
    response = getattr(admin_client, method)(url.format(bad_id))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert any("doesn\u2019t exist" in m for m in messages_of(response))


def test_unknown_id_in_a_detail_action_dialog_does_not_show_the_dialog(admin_client):
    response = admin_client.get(f"/admin/catalog/product/{UNKNOWN}/adjust-stock/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("admin:index")


def test_history_version_that_is_not_a_number(admin_client, product, unchanged):
    response = admin_client.get(f"/admin/catalog/product/{product.pk}/history/not-a-number/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:catalog_product_history", args=[product.pk])
    assert any("has no version" in m for m in messages_of(response))


def test_history_of_a_deleted_object_stays_readable(admin_client):
    brand = BrandFactory()
    brand_id = brand.pk
    brand.delete()
    assert admin_client.get(f"/admin/catalog/brand/{brand_id}/history/").status_code == 200


def test_known_ids_still_work(admin_client, order, product):
    assert admin_client.get(f"/admin/orders/order/{order.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/orders/order/{order.pk}/packing-slip/").status_code == 200
    assert admin_client.get(f"/admin/catalog/product/{product.pk}/history/").status_code == 200
    assert admin_client.get(f"/admin/catalog/product/{product.pk}/adjust-stock/").status_code == 200


def test_anonymous_caller_is_sent_to_login_first(client):
    response = client.get("/admin/orders/order/not-a-uuid/change/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("action", ["delete_selected", "cancel_selected", "mark_paid_selected"])
@pytest.mark.parametrize("selected", ["not-a-uuid", "%00"])
def test_bulk_action_with_a_selection_that_is_not_ids(admin_client, order, unchanged, action, selected):
    url = reverse(
        "admin:orders_customer_changelist" if action == "delete_selected" else "admin:orders_order_changelist"
    )
    response = admin_client.post(url, {"action": action, "index": "0", "_selected_action": [selected, str(order.pk)]})
    assert response.status_code == 302
    assert any("nothing was done" in m for m in messages_of(response))
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


@pytest.fixture
def customer(db):
    return CustomerFactory()


def test_delete_selected_of_nonexistent_rows_does_not_ask_to_confirm_nothing(admin_client, customer, unchanged):
    url = reverse("admin:orders_customer_changelist")
    response = admin_client.post(url, {"action": "delete_selected", "index": "0", "_selected_action": [UNKNOWN]})
    assert response.status_code == 302
    assert any("None of the selected" in m for m in messages_of(response))
    # Confirming anyway deletes nothing either.
    admin_client.post(url, {"action": "delete_selected", "post": "yes", "_selected_action": [UNKNOWN]})


def test_bulk_action_with_a_bad_index(admin_client, references, unchanged):
    response = admin_client.post(
        reverse("admin:catalog_tag_changelist"),
        {"action": "delete_selected", "index": "x", "_selected_action": [str(references[1].pk)]},
    )
    assert response.status_code == 302
    assert any("not valid" in m for m in messages_of(response))


@pytest.fixture
def references(db):
    return CategoryFactory(), TagFactory()


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("admin:catalog_product_add", {"sku": "X-1", "name": "x", "category": "not-a-uuid", "brand": "%00"}),
        ("admin:catalog_product_add", {"sku": "X-1", "name": "x", "tags": ["not-a-uuid", UNKNOWN]}),
        ("admin:catalog_category_add", {"name": "x", "slug": "x", "parent": "not-a-uuid"}),
        (
            "admin:orders_order_place",
            {
                "customer": "not-a-uuid",
                "discount": "0",
                "shipping": "0",
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "0",
                "lines-0-product": "not-a-uuid",
                "lines-0-quantity": "1",
            },
        ),
    ],
)
def test_autocomplete_field_with_an_invalid_id_is_a_form_error(admin_client, references, unchanged, url, data):
    response = admin_client.post(reverse(url), data)
    assert response.status_code == 200
    assert "errornote" in response.content.decode() or "error" in response.content.decode()


def test_order_form_customer_with_an_invalid_id_is_a_form_error(admin_client, order, unchanged):
    response = admin_client.post(reverse("admin:orders_order_change", args=[order.pk]), {"customer": "not-a-uuid"})
    assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).customer_id == order.customer_id


def test_category_parent_with_an_invalid_id_on_change(admin_client, references, unchanged):
    category = references[0]
    response = admin_client.post(
        reverse("admin:catalog_category_change", args=[category.pk]),
        {"name": "x", "slug": "x", "parent": "%00", "position": "0", "active": "on"},
    )
    assert response.status_code == 200
    assert Category.objects.get(pk=category.pk).name == category.name


# --- 2. lookups from the URL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"name__regex": "(.*.*){2}.*.*#" + ".*" * 10},
        {"name__regex": "["},
        {"sku__iregex": "(a+)+$"},
        {"description__icontains": "x"},
        {"supplier__contact_name__startswith": "a"},
    ],
)
def test_undeclared_lookups_are_refused_with_a_message(admin_client, product, query):
    response = admin_client.get(reverse("admin:catalog_product_changelist"), query)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:catalog_product_changelist")
    assert any("not available" in m for m in messages_of(response))


def test_declared_filters_and_widget_lookups_still_work(admin_client, product, superuser):
    url = reverse("admin:catalog_product_changelist")
    for query in [
        {"status__exact": "active"},
        {"price_from": "1", "price_to": "100"},
        {"created_at_from": "2020-01-01"},
        {"low_stock": "yes"},
        {"deleted": "all"},
        {"brand__id__exact": str(product.brand_id)},
        {"category__id__exact": str(product.category_id)},
        {"_to_field": "id", "_popup": "1"},
    ]:
        assert admin_client.get(url, query).status_code == 200, query
    movements = reverse("admin:catalog_stockmovement_changelist")
    assert admin_client.get(movements, {"product__id__exact": str(product.pk)}).status_code == 200
    jobs_url = reverse("admin:backoffice_job_changelist")
    assert admin_client.get(jobs_url, {"created_at_from_0": "2020-01-01", "status__exact": "queued"}).status_code == 200


def test_regex_is_never_allowed_even_if_declared(rf, superuser):
    from django.contrib import admin

    model_admin = admin.site._registry[Product]
    request = rf.get("/")
    request.user = superuser
    assert not model_admin.lookup_allowed("name__regex", "x", request)
    assert not model_admin.lookup_allowed("name__iregex", "x", request)
    assert "status__exact" in model_admin.allowed_lookup_parameters(request)


def test_statement_timeout_is_set_per_process_kind(settings):
    from backoffice.settings import process_kind, statement_timeout_options

    assert process_kind(["/srv/.venv/bin/gunicorn", "backoffice.wsgi"]) == "web"
    assert process_kind(["manage.py", "runserver"]) == "web"
    assert process_kind(["/srv/.venv/bin/celery", "-A", "backoffice", "worker"]) == "worker"
    assert process_kind(["manage.py", "migrate"]) == "command"
    assert statement_timeout_options("web") == f"-c statement_timeout={settings.DATABASE_STATEMENT_TIMEOUT_MS}"
    assert settings.DATABASE_STATEMENT_TIMEOUT_MS == 5000


def test_web_statement_timeout_stops_a_long_query_on_postgres(needs_postgres, settings):
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params["options"] = "-c statement_timeout=200"
    with psycopg.connect(**params) as conn, conn.cursor() as cursor, pytest.raises(psycopg.errors.QueryCanceled):
        cursor.execute("SELECT pg_sleep(2)")


# --- 3. searches too big ------------------------------------------------------------------------------


BIG_SEARCHES = [" ".join(["word"] * 1000), "x" * 60_000, "\x00"]


@pytest.mark.parametrize("term", BIG_SEARCHES, ids=["1000 words", "60000 chars", "NUL"])
@pytest.mark.parametrize(
    "name", ["catalog_product", "orders_order", "orders_customer", "catalog_category", "backoffice_job"]
)
def test_changelist_search_is_bounded(admin_client, product, term, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"), {"q": term, "status__exact": "x"})
    assert response.status_code == 302
    assert "q=" not in response["Location"]
    assert any("Search terms" in m for m in messages_of(response))


@pytest.mark.parametrize("term", BIG_SEARCHES, ids=["1000 words", "60000 chars", "NUL"])
def test_autocomplete_search_is_bounded(admin_client, product, term):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "catalog", "model_name": "product", "field_name": "category", "term": term},
    )
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["disabled"] is True
    assert "Search terms" in result["text"]


@pytest.mark.parametrize("term", BIG_SEARCHES, ids=["1000 words", "60000 chars", "NUL"])
def test_sidebar_search_is_bounded(admin_client, product, term):
    response = admin_client.get(reverse("admin:search"), {"s": term})
    assert response.status_code == 200
    assert "Search terms" in response.content.decode()


@override_settings(ADMIN_SIDEBAR_SEARCH_MAX_PER_MODEL=3)
def test_sidebar_search_lists_a_bounded_number_per_model(admin_client):
    for i in range(6):
        CustomerFactory(name=f"Zeta {i}")
    response = admin_client.get(reverse("admin:search"), {"s": "zeta"})
    assert response.status_code == 200
    assert '<span class="font-medium text-important">3</span> results' in response.content.decode()


def test_sidebar_search_with_a_bad_page(admin_client, product):
    for page in ["abc", "0", "999"]:
        assert admin_client.get(reverse("admin:search"), {"s": "a", "page": page}).status_code == 200


def test_a_search_of_normal_size_still_runs(admin_client, product):
    response = admin_client.get(reverse("admin:catalog_product_changelist"), {"q": product.sku})
    assert response.status_code == 200
    assert product.sku in response.content.decode()


# --- 4d. integers written with other digits ---------------------------------------------------------


@pytest.mark.parametrize("delta", ["\u0663", "\uff13", "1_000", "1.0", "1e3", " ", "+", "--1"])
def test_adjust_stock_takes_ascii_digits_only(admin_client, product, delta):
    movements = StockMovement.objects.count()
    url = reverse("admin:catalog_product_adjust_stock", args=[product.pk])
    response = admin_client.post(url, {"_form_submitted": "True", "delta": delta, "reason": "receipt", "reference": ""})
    assert response.status_code == 200  # the dialog again, with the error
    assert StockMovement.objects.count() == movements
    product.refresh_from_db()
    assert product.stock == 5


def test_adjust_stock_with_ascii_digits(admin_client, product):
    url = reverse("admin:catalog_product_adjust_stock", args=[product.pk])
    response = admin_client.post(
        url, {"_form_submitted": "True", "delta": " -2 ", "reason": "adjustment", "reference": ""}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 3


def test_strict_integer_field_and_parser():
    from backoffice.fields import StrictIntegerField, parse_strict_int

    field = StrictIntegerField(required=False)
    assert field.clean("-12") == -12
    assert field.clean("+7") == 7
    assert field.clean("") is None
    for bad in ["\u0663", "\uff11", "1_0", "0x1", "1.5", "9" * 19, "\x00"]:
        with pytest.raises(Exception):  # noqa: B017 - ValidationError of the form field
            field.clean(bad)
        with pytest.raises(ValueError):
            parse_strict_int(bad)
    assert parse_strict_int(5) == 5
    with pytest.raises(ValueError):
        parse_strict_int(True)


# --- 5. files --------------------------------------------------------------------------------------


def test_media_with_a_very_long_name_is_404(client):
    assert client.get("/media/" + "a" * 5000).status_code == 404
    assert client.get("/media/%00").status_code == 404
    assert client.get("/media/%2e%2e/%2e%2e/etc/passwd").status_code == 404


def test_static_with_an_encoded_dotdot_is_404(client, settings):
    assert client.get("/static/%2e%2e/%2e%2e/manage.py").status_code == 404
    assert client.get("/static/..%2f..%2fmanage.py").status_code == 404
    # runserver (make demo) serves static files through WhiteNoise, not Django's static handler,
    # whose SuspiciousFileOperation on an encoded ".." was the 500.
    apps = settings.INSTALLED_APPS
    assert apps.index("whitenoise.runserver_nostatic") < apps.index("django.contrib.staticfiles")


# --- 6. redirects, messages, health ------------------------------------------------------------------


@pytest.mark.parametrize("target", ["javascript:alert(1)", "https://evil.example/", "//evil.example/x"])
def test_adjust_stock_redirects_only_to_this_site(admin_client, product, target):
    url = reverse("admin:catalog_product_adjust_stock", args=[product.pk])
    response = admin_client.post(
        url,
        {"_form_submitted": "True", "delta": "1", "reason": "receipt", "reference": ""},
        headers={"HX-Request": "true", "HX-Current-URL": target},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("admin:catalog_product_change", args=[product.pk])


@pytest.mark.parametrize(
    ("query", "drops"),
    [
        ({"p": "abc"}, "p"),
        ({"p": "0"}, "p"),
        ({"category__id__exact": "not-a-uuid"}, "category__id__exact"),
        ({"category__id__exact": "not-a-uuid", "e": "1"}, "category__id__exact"),
        ({"brand__id__exact": "%00"}, "brand__id__exact"),
    ],
)
def test_bad_filter_value_or_page_is_a_message_not_e1(admin_client, product, query, drops):
    response = admin_client.get(reverse("admin:catalog_product_changelist"), {**query, "q": "x"})
    assert response.status_code == 302
    location = response["Location"]
    assert "e=1" not in location
    assert f"{drops}=" not in location
    assert "q=x" in location  # the search stays
    assert messages_of(response)
    followed = admin_client.get(location)
    assert followed.status_code == 200
    assert "Database error" not in followed.content.decode()


def test_page_beyond_the_last_is_a_message(admin_client):
    ProductFactory.create_batch(3)
    with override_settings():
        from django.contrib import admin

        model_admin = admin.site._registry[Customer]
        per_page = model_admin.list_per_page
        model_admin.list_per_page = 1
        try:
            CustomerFactory.create_batch(3)
            response = admin_client.get(reverse("admin:orders_customer_changelist"), {"p": "99"})
        finally:
            model_admin.list_per_page = per_page
    assert response.status_code == 302
    assert "p=" not in response["Location"]
    assert any("no page" in m for m in messages_of(response))


def test_healthz_gives_anonymous_callers_only_ok_or_fail(client):
    body = client.get("/healthz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "locks": "ok", "broker": "ok"}}


def test_healthz_details_for_staff(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/healthz").json()
    assert "environment" in body
    assert body["checks"]["database"]["ok"] is True


@override_settings(HEALTHZ_TOKEN="s3cret-token")
def test_healthz_details_with_the_token(client):
    assert "environment" in client.get("/healthz", headers={"Authorization": "Bearer s3cret-token"}).json()
    assert "environment" not in client.get("/healthz", headers={"Authorization": "Bearer wrong"}).json()
    assert "environment" not in client.get("/healthz", headers={"Authorization": "s3cret-token"}).json()


@override_settings(HEALTHZ_TOKEN="")
def test_healthz_without_a_token_setting_no_token_works(client):
    assert "environment" not in client.get("/healthz", headers={"Authorization": "Bearer "}).json()


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


# --- headers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/product/",  # Unfold's changelist_view is xframe_options_sameorigin
        "/admin/catalog/product/add/",  # so is its changeform_view
        "/admin/",
        "/admin/login/",
        "/healthz",
        "/admin/no-such-page/",
        "/static/backoffice/js/job_progress.js",
    ],
)
def test_every_response_denies_framing_and_sends_permissions_policy(admin_client, url):
    response = admin_client.get(url)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_unfold_views_would_send_sameorigin_without_the_middleware(admin_client, settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "backoffice.middleware.SecurityHeadersMiddleware"]
    assert admin_client.get("/admin/catalog/product/").headers["X-Frame-Options"] == "SAMEORIGIN"
    assert admin_client.get("/admin/").headers["X-Frame-Options"] == "DENY"


def test_admin_popups_may_be_framed_by_this_site_only(admin_client):
    # Unfold shows the raw-id lookup and "add another" popups in an iframe of the same page: with DENY and
    # frame-ancestors 'none' the lookup dialog stayed empty (found by the browser tour).
    popup = admin_client.get("/admin/catalog/supplier/?_to_field=id&_popup=1")
    assert popup.status_code == 200 and popup.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = popup.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "'none'" not in policy.split("frame-ancestors")[1].split(";")[0]
    assert "script-src 'self' 'unsafe-eval'" in policy  # the rest of the policy is unchanged
    page = admin_client.get("/admin/catalog/supplier/?_to_field=id")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


# --- a job is not touched by hostile requests ------------------------------------------------------------


def test_job_actions_with_unknown_ids_touch_no_job(admin_client, product, superuser):
    job = jobs.start_job("catalog.set_status", items=[product.pk], params={"status": "archived"}, user=superuser)
    status = Job.objects.get(pk=job.pk).status
    for action in ("cancel", "retry"):
        admin_client.post(f"/admin/backoffice/job/{UNKNOWN}/{action}/")
    assert Job.objects.get(pk=job.pk).status == status
