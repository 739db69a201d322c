"""What the apps' undo handlers share: which rows a batch touched, their version before it, and the refusal
when a row changed since. Backoffice knows no app model; the handlers pass theirs."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from backoffice.imports import UndoRefused


@dataclass
class Touched:
    pk: object
    before: object  # the historical record before the batch (None when the batch created the row)
    first: object  # the batch's first record of the row
    latest: object  # the row's latest record

    @property
    def created(self) -> bool:
        return self.before is None or self.first.history_type == "+"


def touched_by(model, batch, *, chunk: int = 500) -> list[Touched]:
    history = model.history.model
    pk_name = model._meta.pk.attname
    ids = list(
        history.objects.filter(history_import_batch_id=batch.pk).order_by().values_list(pk_name, flat=True).distinct()
    )
    result = []
    for start in range(0, len(ids), chunk):
        records: dict = {}
        for record in history.objects.filter(**{f"{pk_name}__in": ids[start : start + chunk]}).order_by(
            pk_name, "history_date", "history_id"
        ):
            records.setdefault(getattr(record, pk_name), []).append(record)
        for pk, versions in records.items():
            index = next(i for i, r in enumerate(versions) if r.history_import_batch_id == batch.pk)
            result.append(
                Touched(
                    pk=pk,
                    before=versions[index - 1] if index > 0 else None,
                    first=versions[index],
                    latest=versions[-1],
                )
            )
    return result


def refuse_changed_since(touched: list[Touched], batch, *, label) -> None:
    """UndoRefused listing the rows whose latest history is no longer this batch's."""
    changed = [t for t in touched if t.latest.history_import_batch_id != batch.pk]
    if changed:
        names = [label(t.latest) for t in changed]
        raise UndoRefused(
            _("The import cannot be undone: %(count)s rows changed after it (%(rows)s). Nothing was undone.")
            % {"count": len(names), "rows": ", ".join(names[:20]) + (" …" if len(names) > 20 else "")},
            rows=names,
        )


def field_values(record, model, names) -> dict:
    """{field name: value} of ``names`` from a historical record (foreign keys as their id)."""
    values = {}
    for name in names:
        field = model._meta.get_field(name)
        values[name] = getattr(record, field.attname)
    return values
