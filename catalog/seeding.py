"""Demo and benchmark data for the catalogue, written with bulk inserts (100,000 products in seconds)."""

from __future__ import annotations

import io
import random
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import PATH_SEPARATOR, Brand, Category, Product, StockMovement, Supplier, Tag

DEPARTMENTS = {
    "Garden": ["Tools", "Watering", "Furniture", "Plants", "Lighting"],
    "Kitchen": ["Cookware", "Knives", "Storage", "Appliances", "Tableware"],
    "Workshop": ["Power tools", "Hand tools", "Fasteners", "Safety", "Storage"],
    "Outdoor": ["Camping", "Cycling", "Climbing", "Running", "Travel"],
    "Home": ["Bedding", "Bath", "Decor", "Cleaning", "Lighting"],
    "Office": ["Paper", "Writing", "Desks", "Chairs", "Electronics"],
}
LEAVES = ["Basic", "Pro", "Compact"]
ADJECTIVES = ["Classic", "Compact", "Heavy-duty", "Lightweight", "Premium", "Smart", "Eco", "Foldable", "Mini", "XL"]
NOUNS = [
    "hose",
    "rake",
    "pan",
    "knife",
    "drill",
    "saw",
    "lamp",
    "chair",
    "tent",
    "bottle",
    "kettle",
    "clamp",
    "bag",
    "brush",
    "mat",
    "shelf",
    "box",
    "glove",
    "helmet",
    "stool",
]
MATERIALS = ["steel", "oak", "bamboo", "aluminium", "cotton", "ceramic", "glass", "carbon", "wool", "copper"]
TAGS = [
    "new",
    "bestseller",
    "sale",
    "eco",
    "gift",
    "bulky",
    "fragile",
    "seasonal",
    "clearance",
    "exclusive",
    "imported",
    "local",
    "limited",
    "bundle",
    "refurbished",
]
BATCH = 5000


def ean13(number: int) -> str:
    body = f"400{number:09d}"[-12:]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def seed_reference_data(rng: random.Random) -> tuple[list[Category], list[Brand], list[Supplier], list[Tag]]:
    categories: list[Category] = []
    for position, (department, children) in enumerate(DEPARTMENTS.items()):
        root = Category(name=department, slug=slugify(department), position=position, path=department, depth=0)
        categories.append(root)
        for child_position, child in enumerate(children):
            middle = Category(
                name=child,
                slug=slugify(f"{department}-{child}"),
                parent=root,
                position=child_position,
                path=f"{department}{PATH_SEPARATOR}{child}",
                depth=1,
            )
            categories.append(middle)
            for leaf_position, leaf in enumerate(LEAVES):
                categories.append(
                    Category(
                        name=leaf,
                        slug=slugify(f"{department}-{child}-{leaf}"),
                        parent=middle,
                        position=leaf_position,
                        path=f"{middle.path}{PATH_SEPARATOR}{leaf}",
                        depth=2,
                    )
                )
    Category.objects.bulk_create(categories, ignore_conflicts=True)
    Brand.objects.bulk_create(
        [
            Brand(name=f"{rng.choice(ADJECTIVES)} {name.title()} Co {i}", slug=f"brand-{i}")
            for i, name in enumerate(rng.choices(MATERIALS + NOUNS, k=60))
        ],
        ignore_conflicts=True,
    )
    Supplier.objects.bulk_create(
        [
            Supplier(
                code=f"SUP{i:03d}",
                name=f"Supplier {i}",
                contact_name=f"Contact {i}",
                email=f"orders{i}@supplier.example",
                lead_time_days=rng.choice([2, 5, 7, 14, 30]),
            )
            for i in range(25)
        ],
        ignore_conflicts=True,
    )
    Tag.objects.bulk_create([Tag(name=t, slug=t) for t in TAGS], ignore_conflicts=True)
    return (
        list(Category.objects.filter(depth=2)),
        list(Brand.objects.all()),
        list(Supplier.objects.all()),
        list(Tag.objects.all()),
    )


def seed_products(count: int, *, seed: int = 42, start: int | None = None, progress=None) -> int:
    """Insert ``count`` products with opening stock in the ledger and some tags; returns how many."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
    leaves, brands, suppliers, tags = seed_reference_data(rng)
    first = start if start is not None else Product.all_objects.count()
    now = timezone.now()
    statuses = ["active"] * 8 + ["draft", "archived"]
    made = 0
    tag_links = Product.tags.through
    for offset in range(0, count, BATCH):
        size = min(BATCH, count - offset)
        products = []
        for i in range(first + offset, first + offset + size):
            price = Decimal(rng.randint(199, 99_999)) / 100
            stock = rng.choice([0, 1, 2, 3]) if rng.random() < 0.08 else rng.randint(4, 400)
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(NOUNS)} {i}"
            created = now - timedelta(days=rng.randint(0, 730), seconds=rng.randint(0, 86_399))
            status = rng.choice(statuses)
            products.append(
                Product(
                    sku=f"SKU-{i:07d}",
                    name=name,
                    slug=slugify(name)[:280],
                    category=rng.choice(leaves),
                    brand=rng.choice(brands),
                    supplier=rng.choice(suppliers),
                    price=price,
                    cost=(price * Decimal(rng.randint(35, 80)) / 100).quantize(Decimal("0.01")),
                    stock=stock,
                    low_stock_threshold=rng.choice([3, 5, 10]),
                    status=status,
                    barcode=ean13(i),
                    weight_grams=rng.randint(50, 25_000),
                    published_at=created if status == "active" else None,
                    created_at=created,
                )
            )
        with transaction.atomic():
            Product.objects.bulk_create(products, batch_size=1000)
            StockMovement.objects.bulk_create(
                [
                    StockMovement(
                        product=p, delta=p.stock, balance_after=p.stock, reason="receipt", reference="Opening stock"
                    )
                    for p in products
                    if p.stock
                ],
                batch_size=2000,
            )
            tag_links.objects.bulk_create(
                [
                    tag_links(product_id=p.pk, tag_id=tag.pk)
                    for p in products
                    if rng.random() < 0.3
                    for tag in rng.sample(tags, rng.randint(1, 3))
                ],
                batch_size=2000,
                ignore_conflicts=True,
            )
        made += size
        if progress:
            progress(made)
    return made


def demo_photo(index: int, rng: random.Random) -> bytes:
    """A simple product shot: a coloured object on a light backdrop. Drawn small and scaled up, which softens
    the edges like a photo for a fraction of the cost of a blur (a few hundred photos are made per demo)."""
    from PIL import Image, ImageDraw

    width, height = 400, 300
    image = Image.new("RGB", (width, height), (242, 242, 238))
    draw = ImageDraw.Draw(image)
    colour = tuple(rng.randint(30, 220) for _ in range(3))
    shape = index % 3
    box = (width * 0.3, height * 0.2, width * 0.7, height * 0.85)
    if shape == 0:
        draw.ellipse(box, fill=colour)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=15, fill=colour)
    else:
        draw.polygon(
            [(width / 2, height * 0.15), (width * 0.75, height * 0.85), (width * 0.25, height * 0.85)], fill=colour
        )
    draw.ellipse((width * 0.3, height * 0.86, width * 0.7, height * 0.92), fill=(210, 210, 205))
    image = image.resize((1200, 900), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@contextmanager
def variants_later():
    """Ingest images without rendering their variants now. With tasks run in-process (the embedded default,
    and any seeding before a worker runs) each ingest would render in the seeding process; the demo renders
    the missing variants in the background instead (``manage.py regenerate_variants --missing``)."""
    from media_pipeline import services

    schedule = services.schedule_variants
    services.schedule_variants = lambda asset_id, *, force=False: None
    try:
        yield
    finally:
        services.schedule_variants = schedule


def seed_images(count: int, *, seed: int = 42, user=None, render: bool = True) -> int:
    """Ingest ``count`` generated photos through the media pipeline and share them among all products without
    one (a catalogue reuses its photos: thousands of products, a few hundred pictures)."""
    from media_pipeline.services import ingest_image

    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
    if count <= 0 or not Product.objects.exists():
        return 0
    assets = []
    with nullcontext() if render else variants_later():
        for index in range(count):
            data = demo_photo(index, rng)
            assets.append(ingest_image(io.BytesIO(data), filename=f"demo-{index:04d}.jpg", uploaded_by=user))
    share_images(assets)
    return len(assets)


def share_images(assets) -> int:
    """Give every product without an image one of ``assets`` as its primary image (bulk: seeding only)."""
    from catalog.models import ProductImage

    if not assets:
        return 0
    bare = list(Product.objects.filter(images__isnull=True).order_by("sku").values_list("pk", "name"))
    made = 0
    with transaction.atomic():
        for start in range(0, len(bare), BATCH):
            rows = [
                ProductImage(
                    product_id=pk,
                    asset=assets[(start + i) % len(assets)],
                    position=0,
                    is_primary=True,
                    alt_text=name[:255],
                )
                for i, (pk, name) in enumerate(bare[start : start + BATCH])
            ]
            ProductImage.objects.bulk_create(rows, batch_size=1000)
            made += len(rows)
    return made


def seed_activity(*, user) -> dict:
    """A few finished Jobs and an applied (undoable) import batch, made through the same flows a person
    uses: bulk actions, an export and an import of changed prices. Jobs run where tasks run: in-process in
    the embedded default, on the worker otherwise."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backoffice import exports, jobs
    from backoffice.imports import engine
    from catalog.resources import ProductResource

    made = {"jobs": 0, "import_rows": 0}
    drafts = list(Product.objects.filter(status="draft").order_by("sku").values_list("pk", flat=True)[:40])
    if drafts:
        jobs.start_job("catalog.set_status", items=drafts, params={"status": "active"}, user=user)
        made["jobs"] += 1
    bestseller = Tag.objects.filter(slug="bestseller").first()
    popular = list(Product.objects.filter(status="active").order_by("-stock", "sku").values_list("pk", flat=True)[:60])
    if bestseller and popular:
        jobs.start_job("catalog.add_tags", items=popular, params={"tag_ids": [str(bestseller.pk)]}, user=user)
        made["jobs"] += 1
    active = Product.objects.filter(status="active").order_by("sku")
    if active.exists():
        exports.start_export(
            ProductResource,
            active,
            "csv",
            user=user,
            filename="active-products",
            permission="catalog.export_product",
        )
        made["jobs"] += 1
    rows = list(active.values_list("sku", "price")[:25])
    if rows:
        sheet = "sku,price\n" + "".join(
            f"{sku},{(price * Decimal('1.05')).quantize(Decimal('0.01'))}\n" for sku, price in rows
        )
        batch = engine.upload(
            SimpleUploadedFile("price-update.csv", sheet.encode()), resource="catalog.product", user=user
        )
        engine.start_validation(batch, user=user)
        batch.refresh_from_db()
        engine.start_apply(batch, user=user)
        made["import_rows"] = len(rows)
    return made
