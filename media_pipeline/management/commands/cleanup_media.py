from datetime import timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext

from media_pipeline import services
from media_pipeline.models import ImageAsset, ImageVariant

ROOTS = ("originals", "variants")


class Command(BaseCommand):
    help = (
        "Find media files no row points to and rows whose file is gone. "
        "With --dry-run list them; without, delete them. Prints totals."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be deleted; change nothing.")
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=60,
            help="Leave files younger than this alone: an upload stores its file just before its row (default 60).",
        )

    def handle(self, *args, dry_run, grace_minutes, **options):
        stored = set(self._walk(ROOTS))
        originals = dict(ImageAsset.objects.values_list("original", "pk"))
        variants = dict(ImageVariant.objects.values_list("file", "pk"))
        cutoff = timezone.now() - timedelta(minutes=grace_minutes)

        orphans = sorted(name for name in stored - originals.keys() - variants.keys() if self._older(name, cutoff))
        lost_variants = sorted(name for name in variants.keys() - stored)
        lost_originals = sorted(name for name in originals.keys() - stored)

        verb = "would delete" if dry_run else "deleting"
        for name in orphans:
            self.stdout.write(f"{verb} file with no row: {name}")
        for name in lost_variants:
            self.stdout.write(f"{verb} variant row whose file is gone: {name}")
        for name in lost_originals:
            self.stdout.write(f"{verb} image row whose original is gone: {name}")

        kept = 0
        if not dry_run:
            for name in orphans:
                default_storage.delete(name)
            # The asset's other variants stay; `regenerate_variants --missing` renders the lost ones again.
            ImageVariant.objects.filter(pk__in=[variants[name] for name in lost_variants]).delete()
            for name in lost_originals:
                try:
                    services.delete_assets(ImageAsset.objects.filter(pk=originals[name]))
                except ProtectedError:
                    # Still used (by a product, say): keep the row, flag it so people see it.
                    kept += 1
                    ImageAsset.objects.filter(pk=originals[name]).update(
                        status=ImageAsset.Status.FAILED, error=gettext("The original file is missing from storage.")
                    )
                    self.stderr.write(f"kept (still in use), marked failed: {name}")

        summary = (
            f"{len(orphans)} file(s) with no row, {len(lost_variants)} variant row(s) and "
            f"{len(lost_originals)} image row(s) whose file is gone"
        )
        if dry_run:
            self.stdout.write(f"Dry run: {summary}. Nothing was deleted.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Deleted {summary}; {kept} image row(s) kept because in use."))

    def _walk(self, roots):
        for root in roots:
            if not default_storage.exists(root):
                continue
            pending = [root]
            while pending:
                folder = pending.pop()
                dirs, files = default_storage.listdir(folder)
                pending.extend(f"{folder}/{d}" for d in dirs)
                yield from (f"{folder}/{f}" for f in files)

    @staticmethod
    def _older(name: str, cutoff) -> bool:
        try:
            return default_storage.get_modified_time(name) < cutoff
        except (NotImplementedError, OSError):
            return True
