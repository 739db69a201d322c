"""Record what shaped the variants rendered before signatures existed.

Each existing variant is taken to be made from the spec configured now (MEDIA_VARIANT_SPECS or the
defaults) and, for a crop, from its asset's current focal point. Its file keeps its old name (without a
signature), which stays valid: the next render that changes it writes a new, signed name and deletes the
old file after commit. Variants of specs no longer configured keep an empty signature.
"""

from django.db import migrations

BATCH = 2000


def fill_signatures(apps, schema_editor):
    from media_pipeline.specs import ENCODERS, get_specs, variant_identity

    ImageVariant = apps.get_model("media_pipeline", "ImageVariant")
    specs = {spec.name: spec for spec in get_specs()}
    pending = []
    variants = ImageVariant.objects.filter(signature="").select_related("asset").order_by("pk")
    for variant in variants.iterator(chunk_size=BATCH):
        spec = specs.get(variant.spec)
        if spec is None or variant.format not in spec.formats or variant.format not in ENCODERS:
            continue
        focal = (
            variant.asset.focal_x if variant.asset.focal_x is not None else 0.5,
            variant.asset.focal_y if variant.asset.focal_y is not None else 0.5,
        )
        for field, value in variant_identity(spec, variant.format, focal).items():
            setattr(variant, field, value)
        pending.append(variant)
        if len(pending) >= BATCH:
            _save(ImageVariant, pending)
            pending = []
    _save(ImageVariant, pending)


def _save(model, variants) -> None:
    if variants:
        model.objects.bulk_update(
            variants, ["signature", "spec_width", "spec_height", "quality", "focal_x", "focal_y"], batch_size=500
        )


class Migration(migrations.Migration):
    dependencies = [
        ("media_pipeline", "0003_variant_signature"),
    ]

    operations = [
        migrations.RunPython(fill_signatures, migrations.RunPython.noop, elidable=True),
    ]
