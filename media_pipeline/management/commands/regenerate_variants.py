from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from media_pipeline import services
from media_pipeline.models import ImageAsset


class Command(BaseCommand):
    help = "Render image variants: the missing ones (default), all of them, or those of given assets."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--missing",
            action="store_true",
            help="Assets lacking a variant of the current specs, or with one made from other settings or focal point.",
        )
        which.add_argument("--all", action="store_true", help="Every asset, rendering every variant again.")
        which.add_argument("--asset", action="append", metavar="ID", help="This asset (repeatable), rendered again.")
        parser.add_argument("--batch-size", type=int, default=50, help="Assets loaded per query (default 50).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (logs, cron).")

    def handle(self, *args, missing, all, asset, batch_size, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        force = bool(all or asset)
        if asset:
            ids = list(
                ImageAsset.objects.filter(pk__in=self._valid_ids(asset))
                .order_by("created_at")
                .values_list("pk", flat=True)
            )
        elif all:
            ids = list(ImageAsset.objects.order_by("created_at").values_list("pk", flat=True))
        else:
            ids = services.stale_asset_ids(batch_size=batch_size)
        if asset and len(ids) < len(set(asset)):
            raise CommandError("No image with id: " + ", ".join(sorted(set(asset) - {str(i) for i in ids})))

        totals = {"rendered": 0, "failed": 0, "busy": 0}
        progress = None if no_progress else Progress(len(ids), self.stdout)
        for start in range(0, len(ids), batch_size):
            for item in ImageAsset.objects.filter(pk__in=ids[start : start + batch_size]).order_by("created_at"):
                try:
                    rendered = services.render_locked(item, force=force, owner="regenerate_variants")
                except ValidationError as exc:
                    totals["failed"] += 1
                    self.stderr.write(f"{item.pk} {item}: {' '.join(exc.messages)}")
                else:
                    totals["rendered" if rendered is not None else "busy"] += 1
                if progress:
                    progress.step()
        if progress:
            progress.close()
        self.stdout.write(
            f"{len(ids)} image(s): {totals['rendered']} rendered, {totals['failed']} failed, "
            f"{totals['busy']} skipped (being rendered by a worker)."
        )
        if totals["failed"]:
            raise CommandError(f"{totals['failed']} image(s) failed; see the messages above.", returncode=2)

    @staticmethod
    def _valid_ids(values: list[str]) -> list[str]:
        pk = ImageAsset._meta.pk
        try:
            return [str(pk.to_python(value)) for value in values]
        except ValidationError as exc:
            raise CommandError(f"Not an image id: {' '.join(exc.messages)}") from exc


class Progress:
    """A one-line progress bar on a terminal; a line per 10% elsewhere (logs stay short)."""

    def __init__(self, total: int, out, width: int = 30):
        self.total, self.out, self.width, self.done = total, out, width, 0
        self.tty = out.isatty()
        self.last_tenth = -1

    def step(self) -> None:
        self.done += 1
        fraction = self.done / self.total if self.total else 1
        if self.tty:
            filled = int(fraction * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            self.out.write(f"\r[{bar}] {self.done}/{self.total}", ending="")
            self.out.flush()
        elif int(fraction * 10) != self.last_tenth:
            self.last_tenth = int(fraction * 10)
            self.out.write(f"{self.done}/{self.total} ({fraction:.0%})")

    def close(self) -> None:
        if self.tty:
            self.out.write("")
