import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create demo data: a superuser, a catalogue with photos, customers and orders."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed, so two runs make the same data.")
        parser.add_argument("--products", type=int, default=2000, help="Products to create (default 2,000).")
        parser.add_argument("--images", type=int, default=24, help="Product photos through the media pipeline.")
        parser.add_argument("--orders", type=int, default=500, help="Orders over the last 90 days (default 500).")

    def handle(self, *args, **options):
        password = self._demo_password()
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(
                username=DEMO_USERNAME, defaults={"email": "admin@example.com"}
            )
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
        self.stdout.write(self.style.SUCCESS("Demo superuser %s." % ("created" if created else "ready")))
        self._seed_catalog(options, user)
        self._seed_orders(options, user)
        self.stdout.write(f"  Log in at http://127.0.0.1:8000/admin/ as {DEMO_USERNAME} / {password}")

    def _seed_catalog(self, options, user) -> None:
        import time

        from catalog.models import Product
        from catalog.seeding import seed_images, seed_products

        if options["products"] < 0 or options["images"] < 0:
            raise CommandError("--products and --images cannot be negative.")
        existing = Product.all_objects.count()
        if existing:
            self.stdout.write(f"Catalogue already has {existing:,} products; not adding more.")
            return
        started = time.perf_counter()
        count = seed_products(
            options["products"],
            seed=options["seed"],
            progress=self._progress if options["products"] >= 20_000 else None,
        )
        self.stdout.write(
            self.style.SUCCESS(f"{count:,} products with categories, brands, suppliers, tags and opening stock")
            + f" in {time.perf_counter() - started:.1f} s."
        )
        if options["images"]:
            images = seed_images(options["images"], seed=options["seed"], user=user)
            self.stdout.write(
                self.style.SUCCESS(f"{images} product photos ingested; variants render in the background.")
            )

    def _progress(self, made: int) -> None:
        if made % 20_000 == 0:
            self.stdout.write(f"  {made:,} products...")

    def _seed_orders(self, options, user) -> None:
        from orders.models import Order
        from orders.seeding import seed_orders

        if options["orders"] < 0:
            raise CommandError("--orders cannot be negative.")
        if Order.objects.exists():
            self.stdout.write(f"There are orders already ({Order.objects.count():,}); not adding more.")
            return
        count = seed_orders(options["orders"], seed=options["seed"], user=user)
        self.stdout.write(self.style.SUCCESS(f"{count:,} orders over the last 90 days, with customers."))

    def _demo_password(self) -> str:
        # One random password per checkout, kept in var/ so it survives re-seeding.
        path = settings.VAR_DIR / "demo-password.txt"
        if path.exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password
