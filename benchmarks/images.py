"""``benchmark images``: our pipeline against a naive Pillow loop and pyvips, on the same photos.

Each contender runs in its own fresh process, so its peak RSS is its own. All render the four
WebP variants of the default specs (same sizes, same quality and effort); ours is also timed on
the full default set (with AVIF and JPEG) for reference.
"""

from __future__ import annotations

import io
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import Result, suite
from benchmarks.measure import peak_rss_mb

SIZES = ((4000, 3000), (6000, 4000))  # 12 and 24 megapixels
WEBP_QUALITY, WEBP_METHOD = 80, 1  # as ENCODERS["webp"]
REPEATS = 3


def make_photo(width: int, height: int, seed: int, orientation: int) -> bytes:
    """Photo-like: smooth gradients with sensor-like noise (real work for the codecs), EXIF-rotated."""
    from PIL import Image, ImageFilter

    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90 + seed).resize((width, height)),
        ),
    )
    noise = Image.effect_noise((width // 4, height // 4), 40 + seed).resize((width, height)).convert("RGB")
    image = Image.blend(base, noise.filter(ImageFilter.SMOOTH), 0.35)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Benchmark Camera"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def webp_specs():
    from media_pipeline.specs import DEFAULT_SPECS, VariantSpec

    return [VariantSpec(s.name, s.width, s.height, ("webp",)) for s in DEFAULT_SPECS if "webp" in s.formats]


# --- contenders (each runs inside its own process) ------------------------------------------


def run_ours(paths: list[str], full: bool) -> int:
    from media_pipeline import processing
    from media_pipeline.specs import DEFAULT_SPECS

    specs = list(DEFAULT_SPECS) if full else webp_specs()
    outputs = 0
    for path in paths:
        outputs += len(processing.render(Path(path).read_bytes(), specs))
    return outputs


def run_naive(paths: list[str]) -> int:
    """How it is commonly written: open the photo, then thumbnail() and save once per spec from it."""
    from PIL import Image, ImageOps

    outputs = 0
    for path in paths:
        with Image.open(path) as opened:
            full = ImageOps.exif_transpose(opened)
            for spec in webp_specs():
                if spec.crop:
                    variant = ImageOps.fit(full, (spec.width, spec.height), Image.Resampling.LANCZOS)
                else:
                    variant = full.copy()
                    variant.thumbnail((spec.width, spec.width * 10), Image.Resampling.LANCZOS)
                variant.save(io.BytesIO(), "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
                outputs += 1
    return outputs


def run_pyvips(paths: list[str]) -> int:
    """pyvips as its docs advise: thumbnail() from the file per size (shrink-on-load, auto-rotate)."""
    import pyvips

    outputs = 0
    for path in paths:
        for spec in webp_specs():
            if spec.crop:
                image = pyvips.Image.thumbnail(path, spec.width, height=spec.height, crop="centre", size="down")
            else:
                image = pyvips.Image.thumbnail(path, spec.width, height=100_000, size="down")
            image.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_METHOD, strip=True)
            outputs += 1
    return outputs


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec, unlike ru_maxrss which Linux carries over from the parent.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def _child(name: str, paths: list[str], warmup: str, queue) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    contender = CONTENDERS[name]
    contender([warmup])  # imports, codec and thread-pool start-up are not what we measure
    passes = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        outputs = contender(paths)
        passes.append(time.perf_counter() - started)
    # The median pass: a busy neighbour on a shared machine moves one pass, not the figure.
    seconds = statistics.median(passes)
    queue.put({"seconds": seconds, "outputs": outputs, "passes": passes, "peak_rss_mb": _peak_rss_mb()})


CONTENDERS = {
    "naive": run_naive,
    "pyvips": run_pyvips,
    "ours": lambda paths: run_ours(paths, full=False),
    "ours_full": lambda paths: run_ours(paths, full=True),
}


def _in_fresh_process(name: str, paths: list[str], warmup: str) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, paths, warmup, queue))
    process.start()
    try:
        outcome = queue.get(timeout=1800)
    finally:
        process.join()
    if process.exitcode:
        raise RuntimeError(f"the {name} contender exited with {process.exitcode}")
    return outcome


def pyvips_available() -> bool:
    try:
        import pyvips  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


@suite("images", default_rows=4)
def images_suite(rows: int, stdout) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="bench-images-") as folder:
        paths = []
        for index in range(rows):
            width, height = SIZES[index % len(SIZES)]
            path = Path(folder) / f"photo-{index}.jpg"
            path.write_bytes(make_photo(width, height, index, orientation=(1, 6, 3, 8)[index % 4]))
            paths.append(str(path))
        warmup = Path(folder) / "warmup.jpg"
        warmup.write_bytes(make_photo(1200, 900, 99, orientation=6))
        stdout.write(
            f"  {rows} photos, alternately 12 and 24 megapixels, EXIF-rotated; one process per contender, "
            f"median of {REPEATS} passes"
        )

        contenders = [
            ("naive", "naive Pillow: open, thumbnail() + save per spec (4 WebP)"),
            ("pyvips", "pyvips: thumbnail() per spec from file (4 WebP)"),
            ("ours", "ours: draft decode, cascade, parallel encode (4 WebP)"),
            ("ours_full", "ours: full default set (4 WebP + 2 AVIF + 1 JPEG)"),
        ]
        if not pyvips_available():
            stdout.write("  pyvips is not installed (uv sync --group dev; Debian libvips42): skipped")
            contenders = [c for c in contenders if c[0] != "pyvips"]
        results = []
        for key, label in contenders:
            outcome = _in_fresh_process(key, paths, str(warmup))
            results.append(
                Result(
                    label,
                    outcome["seconds"],
                    rows,
                    "images",
                    peak_rss_mb=round(outcome["peak_rss_mb"], 1),
                    extra={
                        "contender": key,
                        "variants_per_pass": outcome["outputs"],
                        "pass_seconds": [round(p, 3) for p in outcome["passes"]],
                    },
                )
            )
        return results
