"""Variant specs: which sizes and formats every image gets. Override with MEDIA_VARIANT_SPECS."""

import hashlib
import json
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
        VariantSpec(
            s["name"],
            int(s["width"]),
            int(s["height"]) if s.get("height") is not None else None,
            tuple(s.get("formats", ("webp",))),
        )
        for s in configured
    )
    unknown = {f for spec in specs for f in spec.formats} - set(ENCODERS)
    if unknown:
        raise ValueError(f"MEDIA_VARIANT_SPECS uses unknown formats: {', '.join(sorted(unknown))}")
    return specs


# Bump when the rendering itself changes (resampling, colour handling, ...): every variant then looks
# stale to ``regenerate_variants --missing`` and is rendered again under a new name.
RENDER_VERSION = 1
SIGNATURE_LENGTH = 10


def variant_identity(spec: VariantSpec, fmt: str, focal: tuple[float, float]) -> dict:
    """What shaped a variant, as ImageVariant fields: the spec's size and crop, the format's encoder
    quality, the focal point (only a crop uses it), and their short ``signature``."""
    _pil_format, options = ENCODERS[fmt]
    return {
        "signature": variant_signature(spec, fmt, focal),
        "spec_width": spec.width,
        "spec_height": spec.height,
        "quality": options.get("quality"),
        "focal_x": focal[0] if spec.crop else None,
        "focal_y": focal[1] if spec.crop else None,
    }


def variant_signature(spec: VariantSpec, fmt: str, focal: tuple[float, float]) -> str:
    """A short hash of everything that decides a variant's bytes; part of its file name."""
    _pil_format, options = ENCODERS[fmt]
    shaped_by = {
        "v": RENDER_VERSION,
        "width": spec.width,
        "height": spec.height,
        "format": fmt,
        "encoder": options,
        # Only a crop depends on the focal point; rounded so float noise never changes a name.
        "focal": [round(focal[0], 4), round(focal[1], 4)] if spec.crop else None,
    }
    text = json.dumps(shaped_by, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:SIGNATURE_LENGTH]
