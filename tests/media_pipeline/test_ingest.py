import io
import struct

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from PIL import Image, ImageFile

from media_pipeline.models import ImageAsset, ImageVariant
from media_pipeline.services import check_image, ingest_image, ingest_image_reporting, render_variants
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def ingest(django_capture_on_commit_callbacks):
    def _ingest(data: bytes, filename="photo.jpg", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            asset = ingest_image(io.BytesIO(data), filename=filename, **kwargs)
        asset.refresh_from_db()
        return asset

    return _ingest


def stored_files() -> list[str]:
    found = []

    def walk(path):
        try:
            dirs, files = default_storage.listdir(path)
        except FileNotFoundError:
            return
        found.extend(f"{path}/{f}".lstrip("/") for f in files)
        for d in dirs:
            walk(f"{path}/{d}".lstrip("/"))

    walk("")
    return found


def variant_image(asset, spec, fmt) -> Image.Image:
    variant = asset.variants.get(spec=spec, format=fmt)
    with variant.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
    return image


REFUSED = [
    ("zero bytes", b"", "empty"),
    ("text renamed .jpg", corpus.TEXT, "not an image we accept"),
    ("svg with script", corpus.SVG_WITH_SCRIPT, "not an image we accept"),
    ("eps", corpus.eps(), "not an image we accept"),
    ("truncated jpeg", corpus.truncated_jpeg(), "damaged or incomplete"),
    ("jpeg truncated in its header", corpus.jpeg_truncated_in_header(), "damaged or incomplete"),
    ("truncated webp", corpus.truncated_webp(), "damaged or incomplete"),
    ("decompression bomb", corpus.decompression_bomb(), "megapixels"),
]


@pytest.mark.parametrize(("case", "data", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_input_is_refused_clearly_and_leaves_nothing(ingest, case, data, message):
    with pytest.raises(ValidationError) as excinfo:
        ingest(data)
    assert message in " ".join(excinfo.value.messages)
    assert not ImageAsset.objects.exists()
    assert stored_files() == []


def test_oversized_file_is_refused_before_decoding(ingest, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(ValidationError, match="the limit is"):
        ingest(corpus.jpeg(1200, 800))
    assert stored_files() == []


def test_photo_gets_every_variant(ingest, superuser):
    asset = ingest(corpus.jpeg(2400, 1600), filename="shoe.jpg", uploaded_by=superuser)
    assert (asset.status, asset.format, asset.width, asset.height) == ("ready", "JPEG", 2400, 1600)
    assert asset.uploaded_by == superuser
    assert asset.original.name.endswith(f"{asset.sha256}.jpg")
    got = {(v.spec, v.format): (v.width, v.height) for v in asset.variants.all()}
    assert got == {
        ("thumb", "webp"): (160, 160),
        ("small", "webp"): (480, 320),
        ("medium", "webp"): (960, 640),
        ("medium", "avif"): (960, 640),
        ("medium", "jpeg"): (960, 640),
        ("large", "webp"): (1920, 1280),
        ("large", "avif"): (1920, 1280),
    }
    for variant in asset.variants.all():
        with variant.file.open("rb") as handle:
            image = Image.open(handle)
            assert image.format == {"webp": "WEBP", "avif": "AVIF", "jpeg": "JPEG"}[variant.format]
            assert image.size == (variant.width, variant.height)


def test_never_upscales(ingest):
    asset = ingest(corpus.jpeg(600, 300))
    sizes = {(v.spec, v.format): (v.width, v.height) for v in asset.variants.all()}
    assert sizes[("large", "webp")] == (600, 300)
    assert sizes[("medium", "jpeg")] == (600, 300)
    assert sizes[("small", "webp")] == (480, 240)
    assert sizes[("thumb", "webp")] == (160, 160)


def test_same_bytes_twice_return_the_same_asset(ingest):
    data = corpus.jpeg(400, 300)
    first = ingest(data, filename="a.jpg")
    second = ingest(data, filename="b.jpg")
    assert first.pk == second.pk
    assert ImageAsset.objects.count() == 1


def test_exif_rotation_applied_and_metadata_stripped(ingest):
    asset = ingest(corpus.exif_rotated_jpeg())
    image = variant_image(asset, "large", "webp")
    assert image.size == (200, 400)  # upright: portrait
    top, bottom = image.getpixel((100, 50)), image.getpixel((100, 350))
    assert top[0] > 200 and top[2] < 60, top  # red on top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    for variant in asset.variants.all():
        with variant.file.open("rb") as handle:
            raw = handle.read()
        opened = Image.open(io.BytesIO(raw))
        assert not opened.getexif(), f"{variant} carries EXIF"
        if variant.format in ("jpeg", "webp"):
            assert b"Exif" not in raw[:4096]


@pytest.mark.parametrize(
    ("case", "data", "alpha"),
    [
        ("cmyk jpeg", corpus.cmyk_jpeg(), False),
        ("16-bit grey png", corpus.png_16bit_grey(), False),
        ("palette png with transparency", corpus.palette_png_with_transparency(), True),
        ("animated gif", corpus.animated_gif(), False),
        ("greyscale jpeg", corpus.greyscale_jpeg(), False),
        ("jpeg with icc profile", corpus.jpeg_with_icc_profile(), False),
        ("html/jpeg polyglot", corpus.html_jpeg_polyglot(), False),
    ],
)
def test_awkward_inputs_render(ingest, case, data, alpha):
    asset = ingest(data, filename=f"{case}.bin")
    assert asset.status == "ready", asset.error
    webp = variant_image(asset, "small", "webp")
    assert webp.mode == ("RGBA" if alpha else "RGB")
    jpeg = variant_image(asset, "medium", "jpeg")
    assert jpeg.mode == "RGB"
    if alpha:
        assert webp.getpixel((0, 0))[3] == 0  # transparent corner kept
        assert jpeg.getpixel((0, 0)) == pytest.approx((255, 255, 255), abs=3)  # flattened on white


def test_heic_from_a_phone_is_accepted(ingest):
    asset = ingest(corpus.heic_photo(), filename="IMG_0001.HEIC")
    assert (asset.format, asset.width, asset.height, asset.status) == ("HEIF", 1008, 756, "ready")
    assert asset.original.name.endswith(".heic")
    image = variant_image(asset, "small", "webp")
    assert image.size == (480, 360)
    assert image.getpixel((40, 180))[0] > 200 and image.getpixel((440, 180))[2] > 200  # red left, blue right


def test_16bit_png_keeps_its_tones(ingest):
    asset = ingest(corpus.png_16bit_grey())
    image = variant_image(asset, "small", "webp")
    # the gradient runs top to bottom: scaled down from 16 bits, not clipped to white
    top, bottom = image.getpixel((100, 2))[0], image.getpixel((100, image.height - 3))[0]
    assert top < 40 and bottom > 200


def test_animated_gif_uses_first_frame(ingest):
    asset = ingest(corpus.animated_gif())
    assert variant_image(asset, "small", "webp").getpixel((10, 10))[:3] == pytest.approx((255, 0, 0), abs=12)


def test_render_is_idempotent_and_force_rerenders(ingest):
    asset = ingest(corpus.jpeg(1000, 800))
    before = dict(asset.variants.values_list("id", "created_at"))
    assert len(render_variants(asset)) == 7
    assert dict(asset.variants.values_list("id", "created_at")) == before
    render_variants(asset, force=True)
    after = dict(asset.variants.values_list("id", "created_at"))
    assert set(after) == set(before) and all(after[k] > before[k] for k in before)
    assert ImageVariant.objects.count() == 7


def test_original_gone_marks_failed_on_render(ingest):
    asset = ingest(corpus.jpeg(300, 200))
    default_storage.delete(asset.original.name)
    with pytest.raises(OSError):
        render_variants(asset, force=True)


def test_focal_point_moves_the_thumbnail_crop(ingest):
    image = Image.new("RGB", (900, 300), (0, 0, 255))
    image.paste((255, 0, 0), (600, 0, 900, 300))  # red on the right third
    asset = ingest(corpus.encode(image, "JPEG", quality=95))
    asset.focal_x, asset.focal_y = 0.9, 0.5
    asset.save()
    render_variants(asset, force=True)
    thumb = variant_image(asset, "thumb", "webp")
    assert thumb.getpixel((80, 80))[0] > 200


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError("broken data stream"), "damaged or incomplete"),
        (SyntaxError("not a JPEG file"), "damaged or incomplete"),
        (ValueError("tile cannot extend outside image"), "damaged or incomplete"),
        (EOFError(), "damaged or incomplete"),
        (struct.error("unpack requires a buffer of 4 bytes"), "damaged or incomplete"),
        (IndexError("list index out of range"), "damaged or incomplete"),
        (Image.DecompressionBombError("too many pixels"), "megapixels"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
@pytest.mark.parametrize("stage", ["open", "load"])
def test_any_decoder_error_is_a_clear_refusal_and_stores_nothing(ingest, monkeypatch, error, message, stage):
    """Whatever a Pillow decoder raises, while opening or while decoding, ingest refuses the file clearly."""
    if stage == "open":

        def broken_open(*args, **kwargs):
            raise error

        monkeypatch.setattr(Image, "open", broken_open)
    else:

        def broken_load(self):
            raise error

        monkeypatch.setattr(ImageFile.ImageFile, "load", broken_load)
    with pytest.raises(ValidationError) as excinfo:
        ingest(corpus.jpeg(300, 200))
    assert message in " ".join(excinfo.value.messages)
    assert not ImageAsset.objects.exists()
    assert stored_files() == []


def test_reporting_ingest_says_whether_it_created_the_asset(django_capture_on_commit_callbacks):
    data = corpus.jpeg(400, 300)
    with django_capture_on_commit_callbacks(execute=False):
        first, created = ingest_image_reporting(io.BytesIO(data), filename="a.jpg")
        again, created_again = ingest_image_reporting(io.BytesIO(data), filename="b.jpg")
        plain = ingest_image(io.BytesIO(data), filename="c.jpg")
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk == plain.pk
    assert isinstance(plain, ImageAsset)
    assert ImageAsset.objects.get().original_filename == "a.jpg"


def test_check_image_validates_without_storing():
    info = check_image(io.BytesIO(corpus.jpeg(300, 200)))
    assert (info.format, info.width, info.height) == ("JPEG", 300, 200)
    with pytest.raises(ValidationError, match="damaged or incomplete"):
        check_image(io.BytesIO(corpus.truncated_webp()))
    assert not ImageAsset.objects.exists()
    assert stored_files() == []
