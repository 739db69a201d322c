"""``benchmark webhooks``: events per second from the outbox to a local receiver, with 1, 4 and 16 endpoints.

``rows`` events (``product.updated`` of a few committed products) are written to the outbox in one INSERT; the
clock then runs while ``dispatch.sweep`` freezes their payloads (rendered as the API shows the product), fans
them out to every endpoint, signs and POSTs each delivery to a ThreadingHTTPServer in a child process (answering
204 at once; in this process it competed with the senders for the GIL) and records every attempt, until no
delivery is pending. What it measures is our side: rendering,
claiming (select_for_update skip_locked), signing, the HTTP round trip on loopback and the bookkeeping.
Everything the suite creates is deleted afterwards."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from benchmarks import Result, suite
from benchmarks.measure import timed

PREFIX = "BENCH-WH-"
PRODUCTS = 20


RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_port, flush=True)
server.serve_forever()
"""


def _run(endpoints: int, rows: int, url: str, product_ids: list) -> Result:
    from backoffice.webhooks import dispatch, services
    from backoffice.webhooks.models import Delivery, Event, WebhookEndpoint

    created = [services.create_endpoint(url=f"{url}?n={i}", events=["product.updated"])[0] for i in range(endpoints)]
    try:
        Event.objects.bulk_create(
            [Event(type="product.updated", resource_id=str(product_ids[i % len(product_ids)])) for i in range(rows)],
            batch_size=2000,
        )

        def deliver():
            while dispatch.sweep(60) or Delivery.objects.filter(state="pending").exists():
                pass

        cpu_started = time.process_time()
        seconds = timed(deliver)
        cpu = time.process_time() - cpu_started
        delivered = Delivery.objects.filter(state="succeeded").count()
        failed = Delivery.objects.exclude(state="succeeded").count()
        return Result(
            name=f"{endpoints} endpoint{'s' if endpoints > 1 else ''}",
            seconds=seconds,
            units=rows,
            unit="events",
            extra={
                "deliveries": delivered,
                "not_delivered": failed,
                "deliveries_per_second": round(delivered / seconds, 1) if seconds else 0,
                # This process's CPU (every thread): what a delivery costs us, whatever else the machine runs.
                "cpu_ms_per_delivery": round(cpu * 1000 / delivered, 2) if delivered else None,
                "database": connection.vendor,
            },
        )
    finally:
        Event.objects.all().delete()
        WebhookEndpoint.objects.filter(pk__in=[e.pk for e in created]).delete()
        cache.delete("webhooks:subscribed-types")


@suite("webhooks", default_rows=2_000)
def webhooks_suite(rows: int, stdout) -> list[Result]:
    from catalog.models import Category, Product

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own script
    url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/hooks"
    category = Category.objects.create(name=f"{PREFIX}category", slug="bench-wh-category")
    products = Product.objects.bulk_create(
        Product(
            sku=f"{PREFIX}{i}",
            name=f"Webhook product {i}",
            slug=f"bench-wh-{i}",
            category=category,
            price=Decimal("9.90"),
            stock=5,
            status="active",
        )
        for i in range(PRODUCTS)
    )
    results = []
    try:
        with override_settings(WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True):
            for endpoints in (1, 4, 16):
                result = _run(endpoints, rows, url, [p.pk for p in products])
                stdout.write(
                    f"  {result.name}: {result.per_second:,.0f} events/s, "
                    f"{result.extra['deliveries_per_second']:,.0f} deliveries/s ({result.seconds:.2f} s), "
                    f"CPU {result.extra['cpu_ms_per_delivery']} ms/delivery"
                )
                results.append(result)
    finally:
        receiver.terminate()
        receiver.wait(10)
        Product.all_objects.filter(sku__startswith=PREFIX).delete()
        category.delete()
    return results
