from django.core.management.base import BaseCommand

from backoffice.roles import ROLES, setup_roles


class Command(BaseCommand):
    help = (
        "Create or correct the role groups (" + ", ".join(role.name for role in ROLES) + "). "
        "Safe to run again: each group ends with exactly its role's permissions."
    )

    def handle(self, *args, **options):
        for name, created, count in setup_roles():
            state = "created" if created else "updated"
            self.stdout.write(f"  {name}: {state}, {count} permissions")
        self.stdout.write(self.style.SUCCESS(f"{len(ROLES)} roles ready."))
