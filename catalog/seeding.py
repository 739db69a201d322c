"""Demo and benchmark data for the catalogue, written with bulk inserts (100,000 products in seconds)."""

from __future__ import annotations

import io
import random
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
    """A simple product shot: a coloured object on a light backdrop, with a little texture."""
    from PIL import Image, ImageDraw, ImageFilter

    width, height = 1600, 1200
    image = Image.new("RGB", (width, height), (242, 242, 238))
    draw = ImageDraw.Draw(image)
    colour = tuple(rng.randint(30, 220) for _ in range(3))
    shape = index % 3
    box = (width * 0.3, height * 0.2, width * 0.7, height * 0.85)
    if shape == 0:
        draw.ellipse(box, fill=colour)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=60, fill=colour)
    else:
        draw.polygon(
            [(width / 2, height * 0.15), (width * 0.75, height * 0.85), (width * 0.25, height * 0.85)], fill=colour
        )
    draw.ellipse((width * 0.3, height * 0.86, width * 0.7, height * 0.92), fill=(210, 210, 205))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def seed_images(count: int, *, seed: int = 42, user=None) -> int:
    """Ingest ``count`` generated photos through the media pipeline and attach them to products."""
    from catalog.services import attach_images
    from media_pipeline.services import ingest_image

    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
    products = list(Product.objects.order_by("sku")[: max(1, count * 2 // 3)])
    if not products:
        return 0
    made = 0
    for index in range(count):
        data = demo_photo(index, rng)
        asset = ingest_image(io.BytesIO(data), filename=f"demo-{index:04d}.jpg", uploaded_by=user)
        attach_images(products[index % len(products)], [asset])
        made += 1
    return made
