import json
import secrets
import time

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backoffice.roles import ROLES, setup_roles

DEMO_USERNAME = "admin"
# One demo user per role: username -> role (group) name.
ROLE_USERS = {
    "operations": "Operations",
    "catalog": "Catalog manager",
    "analyst": "Analyst",
    "integrations": "Integrations admin",
    "viewer": "Viewer",
}
DEMO_KEY_NAME = "Demo shop"
DEMO_LISTENER = "http://127.0.0.1:8765/"


class Command(BaseCommand):
    help = (
        "Create demo data: the roles and a user for each, a catalogue sharing generated photos, customers and 90 "
        "days of orders, finished Jobs and an import, an integration key and a webhook endpoint. Running it again "
        "adds nothing that is there already."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed, so two runs make the same data.")
        parser.add_argument("--products", type=int, default=5000, help="Products to create (default 5,000).")
        parser.add_argument(
            "--images", type=int, default=200, help="Generated photos, shared among the products (default 200)."
        )
        parser.add_argument("--orders", type=int, default=1000, help="Orders over the last 90 days (default 1,000).")
        parser.add_argument(
            "--render-now",
            action="store_true",
            help="Render the photos' variants while seeding (default: leave them to "
            "`manage.py regenerate_variants --missing`, which `make demo` runs in the background).",
        )

    def handle(self, *args, **options):
        for name in ("products", "images", "orders"):
            if options[name] < 0:
                raise CommandError(f"--{name} cannot be negative.")
        started = time.perf_counter()
        passwords = self._passwords()
        user = self._users(passwords)
        self._seed_catalog(options, user)
        self._seed_orders(options, user)
        self._seed_activity(user)
        key_secret = self._integration_key(user)
        endpoint = self._webhook_endpoint(user)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.perf_counter() - started:.1f} s."))
        self._print_access(passwords, key_secret, endpoint)

    # --- people ---------------------------------------------------------------------------------

    def _users(self, passwords: dict):
        setup_roles()
        model = get_user_model()
        with transaction.atomic():
            admin, created = model.objects.get_or_create(
                username=DEMO_USERNAME, defaults={"email": "admin@example.com"}
            )
            admin.is_staff = admin.is_superuser = admin.is_active = True
            admin.set_password(passwords[DEMO_USERNAME])
            admin.save()
            for username, role in ROLE_USERS.items():
                person, _new = model.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@example.com"}
                )
                person.is_staff, person.is_active, person.is_superuser = True, True, False
                person.set_password(passwords[username])
                person.save()
                person.groups.set([Group.objects.get(name=role)])
        self.stdout.write(
            self.style.SUCCESS(
                f"Roles ({', '.join(r.name for r in ROLES)}) and their demo users "
                + ("created." if created else "ready.")
            )
        )
        return admin

    def _passwords(self) -> dict:
        """One random password per user and checkout, kept in var/ (mode 600) so re-seeding keeps them."""
        path = settings.VAR_DIR / "demo-users.json"
        legacy = settings.VAR_DIR / "demo-password.txt"
        stored = {}
        if path.exists():
            try:
                stored = json.loads(path.read_text())
            except ValueError:
                stored = {}
        if DEMO_USERNAME not in stored and legacy.exists():
            stored[DEMO_USERNAME] = legacy.read_text().strip()
        wanted = [DEMO_USERNAME, *ROLE_USERS]
        changed = False
        for username in wanted:
            if not isinstance(stored.get(username), str) or not stored[username]:
                stored[username] = secrets.token_urlsafe(12)
                changed = True
        if changed or not path.exists():
            path.write_text(json.dumps(stored, indent=2) + "\n")
            path.chmod(0o600)
        return stored

    # --- data -----------------------------------------------------------------------------------

    def _seed_catalog(self, options, user) -> None:
        from catalog.models import Product
        from catalog.seeding import seed_images, seed_products

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
            started = time.perf_counter()
            images = seed_images(options["images"], seed=options["seed"], user=user, render=options["render_now"])
            later = "" if options["render_now"] else "; their variants render in the background"
            self.stdout.write(
                self.style.SUCCESS(f"{images} product photos shared among the products{later}")
                + f" ({time.perf_counter() - started:.1f} s)."
            )

    def _progress(self, made: int) -> None:
        if made % 20_000 == 0:
            self.stdout.write(f"  {made:,} products...")

    def _seed_orders(self, options, user) -> None:
        from orders.models import Order
        from orders.seeding import seed_orders

        if Order.objects.exists():
            self.stdout.write(f"There are orders already ({Order.objects.count():,}); not adding more.")
            return
        started = time.perf_counter()
        count = seed_orders(options["orders"], seed=options["seed"], user=user)
        self.stdout.write(
            self.style.SUCCESS(f"{count:,} orders over the last 90 days, with customers")
            + f" ({time.perf_counter() - started:.1f} s)."
        )

    def _seed_activity(self, user) -> None:
        from backoffice.imports.models import ImportBatch
        from backoffice.models import Job
        from catalog.seeding import seed_activity

        if Job.objects.exists() or ImportBatch.objects.exists():
            self.stdout.write("There are Jobs or imports already; not adding more.")
            return
        made = seed_activity(user=user)
        self.stdout.write(
            self.style.SUCCESS(f"{made['jobs']} Jobs and an import of {made['import_rows']} changed prices.")
        )

    # --- integrations ---------------------------------------------------------------------------

    def _integration_key(self, user) -> str | None:
        from backoffice.api.keys import issue_key
        from backoffice.api.models import IntegrationKey, Scope

        if IntegrationKey.objects.filter(name=DEMO_KEY_NAME).exists():
            return None  # its secret was printed when it was made; it is not stored
        _key, secret = issue_key(name=DEMO_KEY_NAME, scopes=list(Scope.values), user=user)
        return secret

    def _webhook_endpoint(self, user):
        if not apps.is_installed("backoffice.webhooks"):
            return None
        from django.test.utils import override_settings

        from backoffice.webhooks import services
        from backoffice.webhooks.choices import SUBSCRIBABLE_VALUES
        from backoffice.webhooks.models import WebhookEndpoint

        endpoint = WebhookEndpoint.objects.filter(url=DEMO_LISTENER).first()
        if endpoint is None:
            # The demo listener runs on this machine; the demo (bin/demo) allows private addresses.
            with override_settings(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True, WEBHOOK_ALLOW_HTTP=True):
                endpoint, _secret = services.create_endpoint(
                    url=DEMO_LISTENER,
                    events=sorted(SUBSCRIBABLE_VALUES),
                    description="Demo listener: manage.py webhook_listen",
                    user=user,
                )
        return endpoint

    def _print_access(self, passwords: dict, key_secret, endpoint) -> None:
        write = self.stdout.write
        write("")
        write("Log in at http://127.0.0.1:8000/admin/ as:")
        write(f"  {DEMO_USERNAME:<14} {passwords[DEMO_USERNAME]:<20} superuser")
        for username, role in ROLE_USERS.items():
            write(f"  {username:<14} {passwords[username]:<20} {role}")
        write(f"  (passwords kept in {settings.VAR_DIR / 'demo-users.json'})")
        if key_secret:
            write("")
            write(self.style.WARNING("Integration key (shown once, not stored; revoke it in Integrations):"))
            write(f"  {key_secret}")
            write(f'  curl -H "Authorization: Bearer {key_secret}" http://127.0.0.1:8000/api/v1/products/')
        if endpoint is not None:
            write("")
            write(f"Webhooks go to {DEMO_LISTENER}; watch them arrive with:")
            write(f"  .venv/bin/python manage.py webhook_listen --endpoint {endpoint.pk}")
