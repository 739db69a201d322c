"""Demo customers and about 90 days of orders, placed through the real services (stock, ledger, history)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from orders import rollup
from orders.models import Customer, Order
from orders.services import notifications_muted, place_order, transition, upsert_customer

FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John", "Hedy", "Tim"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Backus"]
CITIES = [
    ("10115", "Berlin", "DE"),
    ("75001", "Paris", "FR"),
    ("1010", "Wien", "AT"),
    ("8001", "Zürich", "CH"),
    ("1012", "Amsterdam", "NL"),
    ("20095", "Hamburg", "DE"),
]
# the lifecycle an order has reached, with weights: most are delivered, some still open, a few cancelled
PATHS = [
    ([], 10),
    (["paid"], 8),
    (["paid", "processing"], 7),
    (["paid", "shipped"], 15),
    (["paid", "shipped", "delivered"], 50),
    (["cancelled"], 5),
    (["paid", "cancelled"], 3),
    (["paid", "shipped", "delivered", "returned"], 2),
]
CARRIERS = ["DHL", "UPS", "DPD", "GLS"]
COMMIT_EVERY = 100


def seed_customers(count: int, rng: random.Random, *, user=None) -> list[Customer]:
    """Demo customers through upsert_customer (same rules and history as the admin; running it again updates
    the same customers instead of failing on their emails)."""
    customers = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        postal, city, country = rng.choice(CITIES)
        address = {
            "name": f"{first} {last}",
            "line1": f"{rng.randint(1, 200)} Market Street",
            "postal_code": postal,
            "city": city,
            "country": country,
        }
        # Most ship where they are billed; some send their parcels to the office.
        shipping = {**address, "line1": f"{rng.randint(1, 90)} Harbour Road"} if rng.random() < 0.2 else {}
        customer, _created = upsert_customer(
            email=f"{first}.{last}.{i}@example.com".lower(),
            user=user,
            name=f"{first} {last}",
            company=rng.choice(["", "", f"{last} GmbH", f"{last} & Co"]),
            is_vip=rng.random() < 0.08,
            **{f"billing_{part}": value for part, value in address.items()},
            **{f"shipping_{part}": value for part, value in shipping.items()},
        )
        customers.append(customer)
    return customers


def seed_orders(count: int, *, seed: int = 42, user=None) -> int:
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
    products = list(Product.objects.filter(status="active", stock__gte=20).order_by("sku")[:400])
    if not products or count <= 0:
        return 0
    customers = seed_customers(max(20, count // 5), rng, user=user)
    now = timezone.now()
    made = 0
    with notifications_muted():
        for start in range(0, count, COMMIT_EVERY):
            # Each order and step is its own savepoint inside; one commit per slice instead of one per step
            # (on SQLite every commit is a sync to disk).
            with transaction.atomic():
                for _ in range(min(COMMIT_EVERY, count - start)):
                    made += _seed_order(rng, products, customers, now, user)
    rollup.rebuild()  # the orders were back-dated after the services counted them on today
    return made


def _seed_order(rng: random.Random, products, customers, now, user) -> int:
    lines = [(p, rng.choice([1, 1, 1, 2, 3])) for p in rng.sample(products, rng.choice([1, 1, 2, 3, 4]))]
    try:
        order = place_order(customer=rng.choice(customers), lines=lines, user=user)
    except ValidationError:  # a demo product ran out of stock: that order is simply not placed
        return 0
    steps = rng.choices([p for p, _w in PATHS], weights=[w for _p, w in PATHS])[0]
    for step in steps:
        details = {"carrier": rng.choice(CARRIERS), "tracking_number": f"TRK{rng.randint(10**8, 10**9)}"}
        order = transition(order, step, user=user, **(details if step == "shipped" else {}))
    _backdate(order, now - timedelta(days=rng.uniform(0, 90)), rng)
    return 1


def _backdate(order: Order, placed, rng: random.Random) -> None:
    """Spread the demo orders over the last 90 days, each step a little after the one before."""
    stamps, moment = {"placed_at": placed}, placed
    for field in ("paid_at", "shipped_at", "delivered_at", "returned_at", "cancelled_at"):
        if getattr(order, field):
            moment = moment + timedelta(hours=rng.uniform(1, 48))
            stamps[field] = min(moment, timezone.now())
    Order.objects.filter(pk=order.pk).update(**stamps)


def bulk_orders(count: int, *, customers, products, seed: int = 5, batch: int = 5000) -> int:
    """Insert ``count`` historical orders with lines straight into the tables, for benchmarks at a million
    orders. Not through the services: no stock is taken and no history written (these are past orders)."""
    from decimal import Decimal

    from orders.models import OrderLine

    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data
    now = timezone.now()
    statuses = [
        s
        for s, w in (("delivered", 6), ("shipped", 1), ("paid", 1), ("pending", 1), ("cancelled", 1))
        for _ in range(w)
    ]
    made = 0
    for start in range(0, count, batch):
        orders, lines = [], []
        for i in range(start, min(count, start + batch)):
            picked = rng.sample(products, rng.randint(1, 3))
            quantities = [rng.randint(1, 3) for _ in picked]
            subtotal = sum((p.price * q for p, q in zip(picked, quantities, strict=True)), Decimal("0"))
            order = Order(
                number=f"SO-H{i:08d}",
                customer=rng.choice(customers),
                status=rng.choice(statuses),
                subtotal=subtotal,
                total=subtotal,
                placed_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 365)),
                source=rng.choice(["admin", "api", "api", "import"]),
            )
            orders.append(order)
            lines += [
                OrderLine(
                    order=order,
                    product=p,
                    sku=p.sku,
                    name=p.name,
                    unit_price=p.price,
                    quantity=q,
                    line_total=p.price * q,
                )
                for p, q in zip(picked, quantities, strict=True)
            ]
        Order.objects.bulk_create(orders, batch_size=1000)
        OrderLine.objects.bulk_create(lines, batch_size=2000)
        made += len(orders)
    return made
