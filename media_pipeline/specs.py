"""Variant specs: which sizes and formats every image gets. Override with MEDIA_VARIANT_SPECS."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class VariantSpec:
    name: str
    width: int
    height: int | None = None  # with a height the variant is cropped to exactly width x height
    formats: tuple[str, ...] = ("webp",)

    @property
    def crop(self) -> bool:
        return self.height is not None


DEFAULT_SPECS = (
    VariantSpec("thumb", 160, 160, ("webp",)),
    VariantSpec("small", 480, None, ("webp",)),
    VariantSpec("medium", 960, None, ("webp", "avif", "jpeg")),
    VariantSpec("large", 1920, None, ("webp", "avif")),
)

# Encoder settings per output format: quality chosen for product photos, speed for throughput.
ENCODERS = {
    # WebP method 1: a third of method 4's encode time at the same quality setting, files within a few per cent
    # (docs/PERFORMANCE.md); the encode of the largest variant is the longest step of a render.
    "webp": ("WEBP", {"quality": 80, "method": 1}),
    "avif": ("AVIF", {"quality": 60, "speed": 8}),
    "jpeg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
}
EXTENSIONS = {"webp": "webp", "avif": "avif", "jpeg": "jpg"}


def get_specs() -> tuple[VariantSpec, ...]:
    """``MEDIA_VARIANT_SPECS = [{"name": "thumb", "width": 160, "height": 160, "formats": ["webp"]}, ...]``"""
    configured = getattr(settings, "MEDIA_VARIANT_SPECS", None)
    if not configured:
        return DEFAULT_SPECS
    specs = tuple(
        VariantSpec(s["name"], int(s["width"]), s.get("height"), tuple(s.get("formats", ("webp",)))) for s in configured
    )
    unknown = {f for spec in specs for f in spec.formats} - set(ENCODERS)
    if unknown:
        raise ValueError(f"MEDIA_VARIANT_SPECS uses unknown formats: {', '.join(sorted(unknown))}")
    return specs
