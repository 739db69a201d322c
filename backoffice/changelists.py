"""A changelist that pages first and annotates second.

Sorting or filtering a large table by an annotated column used to make the database compute every
annotation for every row before the sort (SQLite evaluates the select list before its sorter). Here
the page's primary keys are chosen with the annotations as aliases (used only where ordering or
filtering needs them), then only those rows are loaded with their display annotations.
"""

from unfold.views import ChangeList


class PageThenAnnotateChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The changelist, not each admin, decides that its rows carry the sortable columns as aliases.
        self.root_queryset = self.model_admin.alias_columns(self.model_admin.get_queryset(request))
        return super().get_queryset(request, exclude_parameters)

    def get_results(self, request):
        super().get_results(request)
        ids = list(self.result_list.values_list("pk", flat=True))
        rows = self.model_admin.annotate_page(self.model_admin.get_queryset(request).filter(pk__in=ids))
        by_pk = {row.pk: row for row in rows}
        self.result_list = [by_pk[pk] for pk in ids if pk in by_pk]


class PageThenAnnotateMixin:
    """ModelAdmin side: ``alias_columns`` adds the sortable computed columns as aliases (computed only
    where a sort or filter uses them); ``annotate_page`` adds the displayed columns to one page."""

    def get_changelist(self, request, **kwargs):
        return PageThenAnnotateChangeList

    def alias_columns(self, queryset):
        raise NotImplementedError

    def annotate_page(self, queryset):
        raise NotImplementedError
