from django.core.management.base import BaseCommand

from orders.rollup import rebuild


class Command(BaseCommand):
    help = (
        "Recompute the daily sales rollup (the dashboard's revenue, orders and top products) from the orders, "
        "in one transaction. The services keep it current; run this after writing orders around them."
    )

    def handle(self, *args, **options):
        counts = rebuild()
        self.stdout.write(
            f"Rollup rebuilt: {counts['daily_sales']:,} day/currency/status rows, "
            f"{counts['daily_product_sales']:,} day/product rows."
        )
