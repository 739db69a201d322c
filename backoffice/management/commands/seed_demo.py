import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create demo data: a superuser to log in with (catalog and orders data arrive with those apps)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="Random seed, so two runs make the same data.")

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
        self.stdout.write(f"  Log in at http://127.0.0.1:8000/admin/ as {DEMO_USERNAME} / {password}")

    def _demo_password(self) -> str:
        # One random password per checkout, kept in var/ so it survives re-seeding.
        path = settings.VAR_DIR / "demo-password.txt"
        if path.exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(12)
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password
