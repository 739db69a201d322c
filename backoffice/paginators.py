"""A paginator that does not count a huge table on every page view."""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows (by the planner's estimate) an exact count is cheap enough.
EXACT_COUNT_BELOW = 50_000


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL, a large result is counted by the planner's estimate (EXPLAIN, no scan);
    small results and other databases get the exact ``COUNT(*)``."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[getattr(queryset, "db", "default")]
        if connection.vendor != "postgresql" or not hasattr(queryset, "query"):
            return super().count
        estimate = _planner_rows(queryset, connection)
        if estimate is None or estimate < EXACT_COUNT_BELOW:
            return super().count
        return estimate


def _planner_rows(queryset, connection) -> int | None:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    try:
        return int(plan[0]["Plan"]["Plan Rows"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
