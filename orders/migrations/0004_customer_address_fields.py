"""Customer addresses become real fields with a country (django-countries); orders keep their JSON snapshot.

Existing JSON addresses (customers and their history rows) are copied into the new fields; a value that is
not a JSON object, or does not parse, leaves the fields blank; an unknown country leaves only the country
blank. Reversible: the fields are written back as JSON.
"""

import json

import django.db.models.functions.text
import django_countries.fields
from django.db import migrations, models

PARTS = ("name", "line1", "line2", "postal_code", "city", "country")
KINDS = ("billing", "shipping")
BATCH = 1000


def address_from_json(value, *, max_lengths: dict[str, int] | None = None) -> dict[str, str]:
    """``{part: text}`` for the six address parts from a stored JSON address (a dict, or its JSON text).
    Anything that is not an object gives all blanks; a country that is not an ISO 3166 code gives a
    blank country; text is stripped and cut to the column's length."""
    from django_countries import countries

    blank = dict.fromkeys(PARTS, "")
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return blank
    if not isinstance(value, dict):
        return blank
    result = {}
    for part in PARTS:
        item = value.get(part)
        text = str(item).strip() if isinstance(item, (str, int, float)) and not isinstance(item, bool) else ""
        if part == "country":
            text = text.upper() if text.upper() in countries else ""
        result[part] = text[: (max_lengths or {}).get(part, 200)]
    return result


def _convert(apps, *, model_name: str, pk: str) -> None:
    from django.db.models import TextField
    from django.db.models.functions import Cast

    model = apps.get_model("orders", model_name)
    lengths = {part: model._meta.get_field(f"billing_{part}").max_length for part in PARTS}
    # The JSON as text, so a value that does not parse (or nests too deep) never stops the migration.
    rows = model.objects.annotate(
        raw_billing=Cast("billing_address", TextField()), raw_shipping=Cast("shipping_address", TextField())
    ).values_list(pk, "raw_billing", "raw_shipping")
    changed = []
    for key, raw_billing, raw_shipping in rows.iterator(chunk_size=BATCH):
        fields = {}
        for kind, raw in (("billing", raw_billing), ("shipping", raw_shipping)):
            for part, text in address_from_json(raw, max_lengths=lengths).items():
                fields[f"{kind}_{part}"] = text
        if any(fields.values()):
            changed.append(model(**{pk: key}, **fields))
    names = [f"{kind}_{part}" for kind in KINDS for part in PARTS]
    model.objects.bulk_update(changed, names, batch_size=BATCH)


def forwards(apps, schema_editor) -> None:
    _convert(apps, model_name="Customer", pk="id")
    _convert(apps, model_name="HistoricalCustomer", pk="history_id")


def _restore(apps, *, model_name: str) -> None:
    model = apps.get_model("orders", model_name)
    changed = []
    for row in model.objects.iterator(chunk_size=BATCH):
        for kind in KINDS:
            parts = {part: str(getattr(row, f"{kind}_{part}") or "") for part in PARTS}
            setattr(row, f"{kind}_address", parts if any(parts.values()) else {})
        changed.append(row)
    model.objects.bulk_update(changed, ["billing_address", "shipping_address"], batch_size=BATCH)


def backwards(apps, schema_editor) -> None:
    _restore(apps, model_name="Customer")
    _restore(apps, model_name="HistoricalCustomer")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_actor_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="billing_city",
            field=models.CharField(blank=True, max_length=100, verbose_name="billing city"),
        ),
        migrations.AddField(
            model_name="customer",
            name="billing_country",
            field=django_countries.fields.CountryField(
                blank=True,
                error_messages={"invalid_choice": "“%(value)s” is not a country; choose one, such as DE for Germany."},
                max_length=2,
                verbose_name="billing country",
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="billing_line1",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing address line 1"),
        ),
        migrations.AddField(
            model_name="customer",
            name="billing_line2",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing address line 2"),
        ),
        migrations.AddField(
            model_name="customer",
            name="billing_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing name"),
        ),
        migrations.AddField(
            model_name="customer",
            name="billing_postal_code",
            field=models.CharField(blank=True, max_length=20, verbose_name="billing postal code"),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_city",
            field=models.CharField(blank=True, max_length=100, verbose_name="shipping city"),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_country",
            field=django_countries.fields.CountryField(
                blank=True,
                error_messages={"invalid_choice": "“%(value)s” is not a country; choose one, such as DE for Germany."},
                help_text="Leave the shipping address empty to ship to the billing one.",
                max_length=2,
                verbose_name="shipping country",
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_line1",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping address line 1"),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_line2",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping address line 2"),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping name"),
        ),
        migrations.AddField(
            model_name="customer",
            name="shipping_postal_code",
            field=models.CharField(blank=True, max_length=20, verbose_name="shipping postal code"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_city",
            field=models.CharField(blank=True, max_length=100, verbose_name="billing city"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_country",
            field=django_countries.fields.CountryField(
                blank=True,
                error_messages={"invalid_choice": "“%(value)s” is not a country; choose one, such as DE for Germany."},
                max_length=2,
                verbose_name="billing country",
            ),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_line1",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing address line 1"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_line2",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing address line 2"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="billing name"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="billing_postal_code",
            field=models.CharField(blank=True, max_length=20, verbose_name="billing postal code"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_city",
            field=models.CharField(blank=True, max_length=100, verbose_name="shipping city"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_country",
            field=django_countries.fields.CountryField(
                blank=True,
                error_messages={"invalid_choice": "“%(value)s” is not a country; choose one, such as DE for Germany."},
                help_text="Leave the shipping address empty to ship to the billing one.",
                max_length=2,
                verbose_name="shipping country",
            ),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_line1",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping address line 1"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_line2",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping address line 2"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="shipping name"),
        ),
        migrations.AddField(
            model_name="historicalcustomer",
            name="shipping_postal_code",
            field=models.CharField(blank=True, max_length=20, verbose_name="shipping postal code"),
        ),
        migrations.AlterConstraint(
            model_name="customer",
            name="customer_email_unique_ci",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("deleted_at__isnull", True)),
                name="customer_email_unique_ci",
                violation_error_code="email_taken",
                violation_error_message="Another customer already has this email address.",
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
        migrations.RemoveField(
            model_name="customer",
            name="billing_address",
        ),
        migrations.RemoveField(
            model_name="customer",
            name="shipping_address",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="billing_address",
        ),
        migrations.RemoveField(
            model_name="historicalcustomer",
            name="shipping_address",
        ),
    ]
