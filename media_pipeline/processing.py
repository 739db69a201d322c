"""Pure image work on bytes: probe an upload safely, render its variants fast. No models here."""

from __future__ import annotations

import io
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError
from pillow_heif import register_heif_opener

from media_pipeline.specs import ENCODERS, VariantSpec

register_heif_opener()

# Decoders Pillow may use on an upload. Anything else (EPS, PSD, FITS, SVG, ...) never reaches one.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF", "HEIF")
ImageFile.LOAD_TRUNCATED_IMAGES = False
# What Pillow's decoders raise on damaged or truncated data, while opening a file or decoding it:
# OSError ("Truncated File Read", "could not create decoder object", "broken data stream"), SyntaxError
# and struct.error from header parsers, EOFError, ValueError and IndexError from odd headers and tiles.
DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Probe:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    spec: str
    format: str
    width: int
    height: int
    data: bytes


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        _("The image has more pixels than the limit of %(limit)s megapixels.")
        % {"limit": round(settings.MEDIA_MAX_PIXELS / 1_000_000)},
        code="too_many_pixels",
    )


def _damaged(exc: BaseException) -> ValidationError:
    reason = str(exc).strip() or exc.__class__.__name__
    return ValidationError(
        _("The image is damaged or incomplete (%(reason)s). Export it again and upload the new file.")
        % {"reason": reason[:120]},
        code="corrupt",
    )


def _open(data: bytes) -> Image.Image:
    """Open (parse the header of) an upload with the allowed decoders only; every failure is a ValidationError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError as exc:
        raise ValidationError(
            _("This file is not an image we accept. Upload a JPEG, PNG, WebP, GIF, AVIF or HEIC photo."),
            code="unsupported",
        ) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except DECODER_ERRORS as exc:  # a known format whose header is cut short or damaged
        raise _damaged(exc) from exc


def probe(data: bytes) -> Probe:
    """Validate an upload: size, allowed format (from the bytes), pixel count, and a full decode."""
    max_bytes = settings.MEDIA_MAX_UPLOAD_BYTES
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > max_bytes:
        raise ValidationError(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(len(data) / 1_000_000, 1), "limit": round(max_bytes / 1_000_000)},
            code="too_large",
        )
    image = _open(data)
    width, height = image.size
    # Checked from the header, before decoding: a decompression bomb costs us nothing.
    if width * height > settings.MEDIA_MAX_PIXELS:
        raise ValidationError(
            _("The image is %(w)sx%(h)s pixels; the limit is %(limit)s megapixels.")
            % {"w": width, "h": height, "limit": round(settings.MEDIA_MAX_PIXELS / 1_000_000)},
            code="too_many_pixels",
        )
    fmt = image.format
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if fmt == "JPEG":
                # A scaled DCT decode still reads every byte of the stream, at 1/64 of the memory.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except DECODER_ERRORS as exc:
        raise _damaged(exc) from exc
    finally:
        image.close()
    return Probe(format=fmt, width=width, height=height)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _largest_needed(specs: list[VariantSpec], size: tuple[int, int]) -> tuple[int, int]:
    """The smallest decode size from which every variant can still be made without upscaling."""
    width, height = size
    needed_w = max(min(spec.width, width) for spec in specs)
    scale = needed_w / width
    for spec in specs:
        if spec.crop:
            # a crop needs its short side covered
            scale = max(scale, min(1.0, max(spec.width / width, spec.height / height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_srgb(image: Image.Image) -> Image.Image:
    """8-bit RGB or RGBA in sRGB, whatever came in (CMYK, 16-bit, palette, greyscale, ICC)."""
    icc = image.info.get("icc_profile")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I")
    if image.mode == "I":
        image = image.point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "PA", "La"):
        image = image.convert("RGBA")
    has_alpha = image.mode == "RGBA"
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if image.mode in ("RGB", "RGBA", "CMYK", "L"):
                out_mode = "RGBA" if has_alpha else "RGB"
                converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=out_mode)
                if converted is not None:
                    image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are rather than refuse the photo
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if has_alpha else "RGB")
    return image


def _fit_width(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)


def _crop(image: Image.Image, spec: VariantSpec, focal: tuple[float, float]) -> Image.Image:
    target_w, target_h = min(spec.width, image.width), min(spec.height, image.height)
    aspect = target_w / target_h
    # Largest box of the target aspect inside the image, centred on the focal point.
    box_w = min(image.width, round(image.height * aspect))
    box_h = min(image.height, round(box_w / aspect))
    left = min(max(0, round(focal[0] * image.width - box_w / 2)), image.width - box_w)
    top = min(max(0, round(focal[1] * image.height - box_h / 2)), image.height - box_h)
    return image.resize(
        (target_w, target_h), Image.Resampling.LANCZOS, box=(left, top, left + box_w, top + box_h), reducing_gap=2.0
    )


def _encode(image: Image.Image, spec: str, fmt: str) -> Rendered:
    pil_format, options = ENCODERS[fmt]
    if fmt == "jpeg" and image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    buffer = io.BytesIO()
    # No exif= and no icc_profile=: variants carry no metadata (GPS!), and their pixels are sRGB.
    image.save(buffer, pil_format, **options)
    return Rendered(spec=spec, format=fmt, width=image.width, height=image.height, data=buffer.getvalue())


# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Below this many output pixels a resize is quicker than handing it to threads.
_BANDED_RESIZE_PIXELS = 1_000_000


def _resize_banded(image: Image.Image, size: tuple[int, int], pool: ThreadPoolExecutor, bands: int) -> Image.Image:
    """LANCZOS resize split into horizontal bands resized at once on ``bands`` threads.

    Pillow reads the filter's support beyond a ``box`` from the whole image, so the bands join
    seamlessly: the result equals a single resize, in a fraction of the time on several cores.
    """
    width, height = size
    if bands < 2 or width * height < _BANDED_RESIZE_PIXELS:
        return image.resize(size, Image.Resampling.LANCZOS)
    scale_y = image.height / height
    edges = [round(height * i / bands) for i in range(bands + 1)]

    def band(i: int) -> Image.Image:
        top, bottom = edges[i], edges[i + 1]
        return image.resize(
            (width, bottom - top), Image.Resampling.LANCZOS, box=(0, top * scale_y, image.width, bottom * scale_y)
        )

    result = Image.new(image.mode, size)
    for i, part in enumerate(pool.map(band, range(bands))):
        result.paste(part, (0, edges[i]))
    return result


def _decode_base(data: bytes, specs: list[VariantSpec], pool: ThreadPoolExecutor, threads: int) -> Image.Image:
    """The upright sRGB image at the smallest size every variant can be made from.

    JPEG is decoded scaled in the DCT; the image is shrunk before it is turned upright and
    colour-converted, so those steps touch as few pixels as possible.
    """
    image = _open(data)
    try:
        orientation = image.getexif().get(0x0112, 1)
        upright = _upright_size(image)
        needed = _largest_needed(specs, upright)
        rotated = upright != image.size
        stored_needed = (needed[1], needed[0]) if rotated else needed
        if image.format == "JPEG":
            image.draft("RGB", stored_needed)
        if getattr(image, "is_animated", False):
            image.seek(0)
        image.load()
        if image.mode in ("RGB", "RGBA", "L", "CMYK"):
            if image.size != stored_needed:
                info = image.info
                image = _resize_banded(image, stored_needed, pool, threads)
                image.info = info  # the ICC profile, for the conversion below
            image = _to_srgb(image)
        else:
            image = _to_srgb(image)  # palette and 16-bit pixels must not be resampled as they are
            if image.size != stored_needed:
                image = _resize_banded(image, stored_needed, pool, threads)
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise _too_many_pixels() from exc
    except DECODER_ERRORS as exc:
        reason = str(exc).strip() or exc.__class__.__name__
        raise ValidationError(
            _("The image could not be decoded: %(reason)s") % {"reason": reason[:120]}, code="corrupt"
        ) from exc
    return image


def render(data: bytes, specs: list[VariantSpec], *, focal: tuple[float, float] = (0.5, 0.5)) -> list[Rendered]:
    """Decode once (scaled where JPEG allows), derive each variant from the next larger one, and
    encode each variant as soon as it exists, on MEDIA_ENCODE_THREADS threads (Pillow's resize
    and encoders release the GIL, so the work spreads over the cores)."""
    if not specs:
        return []
    threads = max(1, settings.MEDIA_ENCODE_THREADS)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        image = _decode_base(data, specs, pool, threads)
        futures = []
        made: list[Image.Image] = []
        current = image
        for spec in sorted((s for s in specs if not s.crop), key=lambda s: -s.width):
            current = _fit_width(current, spec.width)
            made.append(current)
            # The slow encode of the largest variant runs while the smaller ones are resized.
            futures.extend(pool.submit(_encode, current, spec.name, fmt) for fmt in spec.formats)
        for spec in (s for s in specs if s.crop):
            # Crop from the smallest variant that still covers the crop, else from the base image.
            source = min(
                (m for m in made if m.width >= spec.width and m.height >= spec.height),
                key=lambda m: m.width,
                default=image,
            )
            cropped = _crop(source, spec, focal)
            futures.extend(pool.submit(_encode, cropped, spec.name, fmt) for fmt in spec.formats)
        return [future.result() for future in futures]
