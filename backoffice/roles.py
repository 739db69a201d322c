"""The roles of the back office, as auth groups: what each kind of user may do.

A role is a list of grants, each naming an app label, some of its model names (or all of them) and the
verbs allowed on them: Django's ``view``/``add``/``change``/``delete`` and the ``import``/``export``
permissions that ``backoffice.imports.admin`` creates for every admin with Import/Export. Models are
named, not imported, so a role can mention an app that is not installed yet (``webhooks``) and picks up
its models the next time ``setup_roles`` runs. A verb a model does not have (``import`` on a model
without an import) is skipped.

Viewing or changing a model also grants the same on its history model (django-simple-history checks
those with ``SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS``), so a role that sees a product sees its
history too.

``setup_roles()`` is idempotent: each group's permissions are set to exactly what its grants give (a
permission added by hand to a role's group is removed; give it to the person instead, as the Analyst's
import permission is meant to be given).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.translation import gettext_lazy as _

VIEW = ("view",)
VIEW_EXPORT = ("view", "export")
EDIT = ("view", "add", "change")
ALL = ("view", "add", "change", "delete", "import", "export")
EVERY_MODEL = "*"

# What "everything" means for the Analyst and the Viewer: the business data and the work done on it. Users,
# groups, integration keys, webhooks and login records are security settings, left to superusers and the
# Integrations admin.
BUSINESS_APPS = ("catalog", "orders", "media_pipeline")
BACKOFFICE_RECORDS = ("job", "importbatch")


@dataclass(frozen=True)
class Grant:
    app_label: str
    models: tuple[str, ...] | str  # model names (lower case) or EVERY_MODEL
    verbs: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    name: str  # the group's name, stable: code and tests refer to it
    label: str
    description: str
    grants: tuple[Grant, ...]


def _everything(verbs) -> tuple[Grant, ...]:
    return (
        *(Grant(app, EVERY_MODEL, verbs) for app in BUSINESS_APPS),
        Grant("backoffice", BACKOFFICE_RECORDS, VIEW),
    )


OPERATIONS = Role(
    name="Operations",
    label=_("Operations"),
    description=_("Orders and customers through their lifecycle, stock, products."),
    grants=(
        Grant("orders", ("order", "orderline"), EDIT),
        Grant("orders", ("customer",), (*EDIT, "delete")),
        Grant("catalog", ("product",), EDIT),  # stock is adjusted through the product (change_product)
        Grant("catalog", ("stockmovement", "productimage", "category", "brand", "supplier", "tag"), VIEW),
        Grant("media_pipeline", ("imageasset",), VIEW),
        Grant("backoffice", ("job",), ("view", "change")),  # the Jobs its bulk actions start: follow, cancel
    ),
)

CATALOG_MANAGER = Role(
    name="Catalog manager",
    label=_("Catalog manager"),
    description=_("Products, categories, brands, suppliers, tags, photos; imports and their undo; exports."),
    grants=(
        Grant("catalog", ("product", "productimage", "category", "brand", "supplier", "tag"), ALL),
        Grant("catalog", ("stockmovement",), VIEW),
        Grant("media_pipeline", EVERY_MODEL, ALL),
        Grant("backoffice", ("job",), ("view", "change")),
        Grant("backoffice", ("importbatch",), VIEW),
    ),
)

ANALYST = Role(
    name="Analyst",
    label=_("Analyst"),
    description=_(
        "Views and exports everything, changes nothing. Corrected sheets come back through a catalog manager, "
        "or through an import permission given to the person."
    ),
    grants=_everything(VIEW_EXPORT),
)

INTEGRATIONS_ADMIN = Role(
    name="Integrations admin",
    label=_("Integrations admin"),
    description=_("Integration keys of the API, webhook endpoints and their deliveries."),
    grants=(
        Grant("api", ("integrationkey",), ("view", "add", "change", "delete")),
        Grant("api", EVERY_MODEL, VIEW),  # and whatever the API records about its callers
        Grant("webhooks", EVERY_MODEL, ("view", "add", "change", "delete")),
        Grant("backoffice", ("job",), VIEW),
    ),
)

VIEWER = Role(
    name="Viewer",
    label=_("Viewer"),
    description=_("Views the business data; changes and exports nothing."),
    grants=_everything(VIEW),
)

ROLES: tuple[Role, ...] = (OPERATIONS, CATALOG_MANAGER, ANALYST, INTEGRATIONS_ADMIN, VIEWER)


def _models(grant: Grant) -> list:
    try:
        config = apps.get_app_config(grant.app_label)
    except LookupError:
        return []  # an app the role expects that is not installed (yet)
    models = [m for m in config.get_models() if not m._meta.proxy]
    if grant.models == EVERY_MODEL:
        # History models follow the models they record (below), never granted on their own.
        return [m for m in models if not _ishistory_model(m)]
    return [m for m in models if m._meta.model_name in grant.models]


def _ishistory_model(model) -> bool:
    return hasattr(model, "instance_type") and hasattr(model, "history_object")


def history_model(model):
    manager = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, manager).model if manager else None


def codenames(role: Role) -> set[tuple[str, str]]:
    """(app_label, codename) of every permission the role's grants name, history models included."""
    wanted = set()
    for grant in role.grants:
        for model in _models(grant):
            history = history_model(model)
            for verb in grant.verbs:
                wanted.add((model._meta.app_label, f"{verb}_{model._meta.model_name}"))
                if history is not None and verb in ("view", "change"):
                    wanted.add((history._meta.app_label, f"{verb}_{history._meta.model_name}"))
    return wanted


def permissions_for(role: Role):
    """The Permission rows of a role; codenames its models do not have (import on a model without an
    import) are left out."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    wanted = codenames(role)
    if not wanted:
        return Permission.objects.none()
    condition = Q()
    for app_label, codename in wanted:
        condition |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(condition)


def setup_roles() -> list[tuple[str, bool, int]]:
    """Create or correct the group of every role; returns (name, created, number of permissions)."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    report = []
    with transaction.atomic():
        for role in ROLES:
            group, created = Group.objects.get_or_create(name=role.name)
            permissions = list(permissions_for(role))
            group.permissions.set(permissions)
            report.append((role.name, created, len(permissions)))
    return report


def role(name: str) -> Role:
    for candidate in ROLES:
        if candidate.name == name:
            return candidate
    raise LookupError(name)
