"""A hostile and awkward image corpus, made in memory so the tests need no data files."""

import io
import struct
import zlib

from PIL import Image, ImageCms


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width=1200, height=800, mode="RGB") -> Image.Image:
    """Something photo-like: gradients, so encoders have real work and crops are checkable."""
    image = Image.linear_gradient("L").resize((width, height))
    other = Image.linear_gradient("L").rotate(90).resize((width, height))
    return Image.merge("RGB", (image, other, Image.new("L", (width, height), 128))).convert(mode)


def jpeg(width=1200, height=800, **options) -> bytes:
    return encode(photo(width, height), "JPEG", quality=85, **options)


def exif_rotated_jpeg() -> bytes:
    """Stored landscape 400x200, left half red and right half blue; EXIF orientation 6 (rotate 90 CW).
    Upright it is portrait 200x400 with red on top."""
    image = Image.new("RGB", (400, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {2: (52.0, 31.0, 0.0)}  # GPS latitude: must never reach a variant
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def cmyk_jpeg() -> bytes:
    return encode(photo(600, 400).convert("CMYK"), "JPEG", quality=90)


def png_16bit_grey() -> bytes:
    image = Image.linear_gradient("L").resize((300, 200)).convert("I")
    image = image.point(lambda v: v * 256)
    return encode(image.convert("I;16"), "PNG")


def palette_png_with_transparency() -> bytes:
    image = Image.new("P", (300, 300), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (100, 100, 200, 200))
    return encode(image, "PNG", transparency=0)


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (200, 100), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def greyscale_jpeg() -> bytes:
    return encode(photo(500, 500).convert("L"), "JPEG")


def jpeg_with_icc_profile() -> bytes:
    # An embedded profile takes the LittleCMS path; Pillow builds only a few profiles, sRGB among them.
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(photo(600, 400), "JPEG", icc_profile=icc)


def heic_photo() -> bytes:
    """What an iPhone sends: HEIC, here with a red left half so the decode is checkable."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    image = Image.new("RGB", (1008, 756), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 504, 756))
    return encode(image, "HEIF", quality=90)


def decompression_bomb() -> bytes:
    """A tiny PNG that claims 30,000 x 30,000 pixels (900 megapixels)."""
    width = height = 30_000

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    data = zlib.compress(row * 8)  # far fewer rows than claimed: it must be refused before decoding
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]


def jpeg_truncated_in_header() -> bytes:
    """Cut inside the header segments: Pillow's JPEG plugin raises OSError while opening it."""
    return jpeg(800, 600)[:400]


def webp(width=800, height=600) -> bytes:
    return encode(photo(width, height), "WEBP", quality=80)


def truncated_webp() -> bytes:
    """Half a WebP: Pillow raises OSError ("could not create decoder object") while opening it."""
    data = webp()
    return data[: len(data) // 2]


SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="10" height="10"/></svg>'
)
TEXT = b"Just some text renamed to photo.jpg\n"


def html_jpeg_polyglot() -> bytes:
    return jpeg(300, 200) + b"<html><script>alert(document.cookie)</script></html>"


def eps() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\n%%EOF\n"
