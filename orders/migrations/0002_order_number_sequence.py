"""On PostgreSQL order numbers come from a sequence: never duplicated, no lock held while placing."""

from django.db import migrations


def run(statement):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.RunPython(
            run("CREATE SEQUENCE IF NOT EXISTS orders_order_number_seq"),
            run("DROP SEQUENCE IF EXISTS orders_order_number_seq"),
            elidable=False,
        )
    ]
