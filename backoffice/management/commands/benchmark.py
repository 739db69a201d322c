import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings

from benchmarks import load_suites


class Command(BaseCommand):
    help = "Run a benchmark suite (from the top-level benchmarks package) side by side with its baseline."

    def add_arguments(self, parser):
        parser.add_argument("suite", help="Suite name (see the error message for the available ones).")
        parser.add_argument("--rows", type=int, default=None, help="Work size; each suite has its own default.")
        parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")

    def handle(self, *args, suite, rows, json: Path | None, **options):
        suites = load_suites()
        if suite not in suites:
            raise CommandError(f"Unknown suite {suite!r}. Available: {', '.join(sorted(suites))}.")
        run = suites[suite]
        rows = rows or run.default_rows
        if rows <= 0:
            raise CommandError("--rows must be positive.")
        self.stdout.write(f"Suite {suite}, {rows:,} rows")
        # DEBUG would log every query: slower, and memory that grows with the run.
        with override_settings(DEBUG=False):
            results = run(rows, self.stdout)
        by_name = {r.name: r for r in results}
        width = max(len(r.name) for r in results)
        for result in results:
            baseline = by_name.get(result.baseline) or results[0]
            ratio = baseline.seconds / result.seconds if result.seconds else 0
            queries = f"{result.queries} queries/{result.queries_for or rows}" if result.queries is not None else ""
            per_unit = result.seconds * 1000 / result.units if result.units else 0
            rss = f"peak RSS {result.peak_rss_mb:,.0f} MB" if result.peak_rss_mb is not None else ""
            self.stdout.write(
                f"  {result.name:<{width}}  {result.seconds * 1000:>10.1f} ms  {per_unit:>9.2f} ms/{result.unit[:-1]}"
                f"  {result.per_second:>10,.1f} {result.unit}/s  {queries:>20}  {rss:>18}  x{ratio:.1f} vs baseline"
            )
        if json:
            json.write_text(_dumps({"suite": suite, "rows": rows, "results": [r.as_dict() for r in results]}))
            self.stdout.write(f"Results written to {json}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2) + "\n"
