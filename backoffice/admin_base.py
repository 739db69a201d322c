"""The base every ModelAdmin of the project inherits, and the guards of the admin site's own views.

Bad input from the address bar or a crafted form never reaches a view that would answer it with a
500 or a query that runs for minutes. The rules live here, once, so a new admin, a new detail
action or a new custom view with an ``object_id`` is covered without a line of its own:

* **Ids.** Every URL of an admin that takes an object id (change, delete, history and its
  versions, Unfold detail and row actions, custom views such as a packing slip) is wrapped: a
  malformed or unknown id gives Django's usual "... doesn't exist. Perhaps it was deleted?"
  message and redirect, before the view (or its dialog) runs. The wrapping is done on the final
  URL list (``urls``), so it sees the URLs every mixin adds, SimpleHistoryAdmin's included.
* **Lookups from the URL.** ``lookup_allowed`` allows only the parameters of the declared
  ``list_filter`` (whatever their class: Django's, Unfold's range filters, SimpleListFilters), the
  ``limit_choices_to`` lookups Django's raw-id popups send, ``date_hierarchy`` and what an admin
  lists in ``url_lookups``. ``__regex``/``__iregex`` never. ``allowed_lookup_parameters`` is the
  hook other views (exports) reuse.
* **Changelists.** A refused lookup, a bad filter value or a page that does not exist gives a
  message and the same list without the offending part; never ``?e=1`` or the unthemed
  "Database error" page. Search terms are bounded (``ADMIN_SEARCH_MAX_CHARS`` and
  ``ADMIN_SEARCH_MAX_WORDS``) here, in autocomplete and in the sidebar search.
* **Bulk actions.** A selection with ids that are not ids, or of rows that no longer exist, is
  refused with a message; nothing runs (``delete_selected`` included).
* **Autocomplete fields** render again with a form error when given an invalid id.
"""

import re
from functools import update_wrapper

from django.conf import settings
from django.contrib import messages
from django.contrib.admin import FieldListFilter, helpers, widgets
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.utils import get_fields_from_path, quote, unquote
from django.contrib.admin.views.main import ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR, IncorrectLookupParameters
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import InvalidPage
from django.db import DatabaseError, router, transaction
from django.db.models import Field
from django.db.models.constants import LOOKUP_SEP
from django.forms import BooleanField
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import URLPattern, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin

from backoffice.admin_helpers import redirect_after_action
from backoffice.fields import SafeAutocompleteSelect, SafeAutocompleteSelectMultiple

NEVER_FROM_URL = frozenset({"regex", "iregex"})
# Views that save through services; the history form view (a revert) also gets the transaction the
# change view has of its own.
WRITING_VIEWS = ("_add", "_change", "_simple_history")
# Parameters a changelist understands that are not lookups; kept when filters are reset.
CONTROL_PARAMS = (SEARCH_VAR, ORDER_VAR, IS_POPUP_VAR, TO_FIELD_VAR)
_PAGE = re.compile(r"[1-9][0-9]{0,8}")
_INVALID = object()


def search_term_problem(term: str | None) -> str | None:
    """Why ``term`` is refused as a search, or None. Long terms make the database build huge
    expression trees (``Expression tree is too large``) or LIKE patterns it refuses."""
    if not term:
        return None
    if "\x00" in term:
        return _("Search terms cannot contain control characters; this one was not run.")
    max_chars, max_words = settings.ADMIN_SEARCH_MAX_CHARS, settings.ADMIN_SEARCH_MAX_WORDS
    if len(term) > max_chars or len(term.split()) > max_words:
        return _("Search terms are limited to %(chars)d characters and %(words)d words; this one was not run.") % {
            "chars": max_chars,
            "words": max_words,
        }
    return None


def _without(request, keys) -> str:
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    query.pop(ERROR_FLAG, None)
    return request.path + (f"?{query.urlencode()}" if query else "")


def _shown(value) -> str:
    return Truncator(str(value)).chars(60)


class ChangelistRefused(Exception):
    """Raised inside a guarded changelist request; the guard turns it into a message and redirect."""


def _takes_object_id(pattern) -> bool:
    if isinstance(pattern.pattern, RoutePattern):
        return "object_id" in pattern.pattern.converters
    if isinstance(pattern.pattern, RegexPattern):
        regex = pattern.pattern.regex
        return "object_id" in regex.groupindex or (regex.groups > 0 and not regex.groupindex)
    return False


class BaseModelAdmin(ModelAdmin):
    # Lookups this admin's own links put in the address beside the declared filters,
    # e.g. ["product__id__exact"] for "all movements of this product".
    url_lookups: tuple[str, ...] | list[str] = ()

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self._allowed_lookups_cache: dict = {}
        # Instance-level, so subclasses that override get_search_results without super() are
        # bounded too, wherever the search comes from (changelist, autocomplete, sidebar).
        self.get_search_results = self._bounded_search(self.get_search_results)

    # --- URLs: ids ------------------------------------------------------------------------------

    @property
    def urls(self):
        guarded = []
        for pattern in self.get_urls():
            if isinstance(pattern, URLPattern) and (pattern.name or "").endswith(WRITING_VIEWS):
                pattern = URLPattern(
                    pattern.pattern, self._refusing_gracefully(pattern.callback), pattern.default_args, pattern.name
                )
            if isinstance(pattern, URLPattern) and _takes_object_id(pattern):
                pattern = URLPattern(
                    pattern.pattern,
                    self._guard_object_view(pattern.callback, pattern.name or ""),
                    pattern.default_args,
                    pattern.name,
                )
            elif isinstance(pattern, URLPattern) and (pattern.name or "").endswith("_changelist"):
                pattern = URLPattern(
                    pattern.pattern, self._guard_changelist_view(pattern.callback), pattern.default_args, pattern.name
                )
            guarded.append(pattern)
        return guarded

    def _refusing_gracefully(self, view):
        """A rule the form could not see (a SKU or email taken a moment ago, an order paid meanwhile)
        makes the service raise ValidationError inside the save: everything the view wrote is rolled
        back, and the user gets the service's message on the same page instead of a 500."""

        def refusing(request, *args, **kwargs):
            try:
                with transaction.atomic(using=router.db_for_write(self.model)):
                    return view(request, *args, **kwargs)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return redirect_after_action(request, request.get_full_path())

        return update_wrapper(refusing, view)

    def _guard_object_view(self, view, url_name: str):
        def guarded(request, *args, **kwargs):
            if not self.admin_site.has_permission(request):
                return view(request, *args, **kwargs)  # the login redirect comes first
            object_id = kwargs.get("object_id", args[0] if args else None)
            version_id = args[1] if len(args) > 1 else None
            refusal = self._refuse_unknown_object(request, object_id, version_id, url_name)
            if refusal is not None:
                add_never_cache_headers(refusal)
                return refusal
            return view(request, *args, **kwargs)

        return update_wrapper(guarded, view)

    def _history_model(self):
        attribute = getattr(self.model._meta, "simple_history_manager_attribute", None)
        return getattr(self.model, attribute).model if attribute else None

    def _clean_id(self, field, raw: str):
        if raw is None or "\x00" in raw or len(raw) > 255:
            return _INVALID
        try:
            value = field.to_python(raw)
            field.get_prep_value(value)
        except (ValidationError, ValueError, TypeError, OverflowError):
            return _INVALID
        return _INVALID if value is None else value

    def _refuse_unknown_object(self, request, object_id, version_id, url_name: str):
        raw = unquote(str(object_id)) if object_id is not None else None
        field = self.opts.pk
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and self.to_field_allowed(request, to_field):
            field = self.opts.get_field(to_field)
        value = self._clean_id(field, raw)
        if value is _INVALID:
            return self._does_not_exist(request, raw)
        history = self._history_model()
        exists = self.get_queryset(request).filter(**{field.name: value}).exists()
        if not exists and history is not None and url_name.endswith("history") and field.primary_key:
            # The history of a deleted object stays readable (simple-history shows it).
            exists = history._default_manager.filter(**{self.opts.pk.attname: value}).exists()
        if not exists:
            return self._does_not_exist(request, raw)
        if version_id is None or history is None:
            return None
        version = self._clean_id(history._meta.pk, unquote(str(version_id)))
        if (
            version is _INVALID
            or not history._default_manager.filter(**{"pk": version, self.opts.pk.attname: value}).exists()
        ):
            self.message_user(
                request,
                _("%(name)s “%(key)s” has no version “%(version)s”.")
                % {"name": self.opts.verbose_name, "key": _shown(raw), "version": _shown(version_id)},
                messages.WARNING,
            )
            url = reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history", args=[quote(raw)]
            )
            return redirect_after_action(request, url)
        return None

    def _does_not_exist(self, request, raw):
        response = self._get_obj_does_not_exist_redirect(request, self.opts, _shown(raw or ""))
        return redirect_after_action(request, response.url)

    # --- URLs: changelist -----------------------------------------------------------------------

    def _guard_changelist_view(self, view):
        def guarded(request, *args, **kwargs):
            if not self.admin_site.has_permission(request):
                return view(request, *args, **kwargs)
            problem = search_term_problem(request.GET.get(SEARCH_VAR))
            if problem:
                self.message_user(request, problem, messages.ERROR)
                return HttpResponseRedirect(_without(request, [SEARCH_VAR]))
            page = request.GET.get(PAGE_VAR)
            if page is not None and not _PAGE.fullmatch(page):
                return self._page_does_not_exist(request, page)
            unreadable = [key for key, values in request.GET.lists() if any("\x00" in v for v in values)]
            if unreadable:
                self.message_user(
                    request,
                    _("The address contained characters no filter accepts; they were removed."),
                    messages.WARNING,
                )
                return HttpResponseRedirect(_without(request, unreadable))
            request._changelist_guarded = True
            request._refused_lookups = []
            try:
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()  # errors of the page's queries surface here, not after the view
            except ChangelistRefused as refused:
                return self._changelist_refused(request, refused.__cause__)
            except DatabaseError:
                if not [key for key in request.GET if key not in (ERROR_FLAG,)]:
                    raise
                self.message_user(
                    request,
                    _("The list could not be shown with these filters or this search; they were reset."),
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
            return response

        return update_wrapper(guarded, view)

    def _page_does_not_exist(self, request, page):
        self.message_user(
            request,
            _("There is no page “%(page)s”; here is the first page.") % {"page": _shown(page)},
            messages.WARNING,
        )
        return HttpResponseRedirect(_without(request, [PAGE_VAR]))

    def _changelist_refused(self, request, error):
        refused = [key for key in getattr(request, "_refused_lookups", []) if key in request.GET]
        if isinstance(error, DisallowedModelAdminLookup) and refused:
            self.message_user(
                request,
                ngettext(
                    "Filtering by %(keys)s is not available; it was removed from the address.",
                    "Filtering by %(keys)s is not available; they were removed from the address.",
                    len(refused),
                )
                % {"keys": ", ".join(_shown(key) for key in refused)},
                messages.WARNING,
            )
            return HttpResponseRedirect(_without(request, refused))
        cause = error.__cause__ or error.__context__
        if PAGE_VAR in request.GET and isinstance(cause, InvalidPage):
            return self._page_does_not_exist(request, request.GET[PAGE_VAR])
        filters = [key for key in request.GET if key not in CONTROL_PARAMS]
        message = _("A filter value in the address was not valid, so the filters were reset.")
        if isinstance(cause, ValidationError):
            message = f"{message} {_shown(' '.join(cause.messages))}"
        self.message_user(request, message, messages.WARNING)
        return HttpResponseRedirect(_without(request, filters or list(request.GET)))

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except (IncorrectLookupParameters, DisallowedModelAdminLookup) as exc:
            if getattr(request, "_changelist_guarded", False):
                raise ChangelistRefused from exc
            raise
        except EmptyResultSet as exc:
            # A value no column can hold (an integer beyond 64 bits) compiles to "no rows", which
            # code that compiles the query itself (the estimated-count paginator) does not expect.
            if getattr(request, "_changelist_guarded", False):
                raise ChangelistRefused from IncorrectLookupParameters(exc)
            raise

    # --- lookups from the URL ---------------------------------------------------------------------

    def allowed_lookup_parameters(self, request) -> frozenset:
        """Every query parameter a changelist of this admin accepts as a lookup: the declared
        filters' own parameters, ``date_hierarchy`` and ``url_lookups``. Exports reuse it."""
        list_filter = tuple(self.get_list_filter(request))
        allowed = self._allowed_lookups_cache.get(list_filter)
        if allowed is None:
            params = set(self.url_lookups)
            for spec in list_filter:
                params.update(self._filter_parameters(request, spec))
            if self.date_hierarchy:
                params.update(f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day"))
            allowed = frozenset(p for p in params if p and not NEVER_FROM_URL & set(p.split(LOOKUP_SEP)))
            self._allowed_lookups_cache[list_filter] = allowed
        return allowed

    def _filter_parameters(self, request, list_filter) -> list[str]:
        """A filter's expected parameters, built the way Django's ChangeList builds the filter."""
        if callable(list_filter):
            spec = list_filter(request, {}, self.model, self)
        else:
            if isinstance(list_filter, (tuple, list)):
                field, filter_class = list_filter
            else:
                field, filter_class = list_filter, FieldListFilter.create
            field_path = None
            if not isinstance(field, Field):
                field_path = field
                field = get_fields_from_path(self.model, field_path)[-1]
            spec = filter_class(field, request, {}, self.model, self, field_path=field_path)
        return [p for p in spec.expected_parameters() if p]

    def lookup_allowed(self, lookup, value, request=None):
        if NEVER_FROM_URL & set(lookup.split(LOOKUP_SEP)):
            allowed = False
        elif request is not None and lookup in self.allowed_lookup_parameters(request):
            allowed = True
        else:
            # What Django's raw-id popups send: the limit_choices_to of foreign keys to this model.
            allowed = False
            for fk_lookup in self.model._meta.related_fkey_lookups:
                if callable(fk_lookup):
                    fk_lookup = fk_lookup()
                if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
                    allowed = True
                    break
        if not allowed and request is not None and hasattr(request, "_refused_lookups"):
            request._refused_lookups.append(lookup)
        return allowed

    # --- search ---------------------------------------------------------------------------------------

    def _bounded_search(self, get_search_results):
        def bounded(request, queryset, search_term):
            if search_term_problem(search_term):
                return queryset.none(), False
            queryset, may_have_duplicates = get_search_results(request, queryset, search_term)
            match = getattr(request, "resolver_match", None)
            if match is not None and match.url_name == "search" and search_term:
                # The sidebar search lists matches of every model: a page of each is plenty.
                queryset = queryset[: settings.ADMIN_SIDEBAR_SEARCH_MAX_PER_MODEL]
            return queryset, may_have_duplicates

        return update_wrapper(bounded, get_search_results)

    # --- bulk actions -----------------------------------------------------------------------------------

    def response_action(self, request, queryset):
        try:
            int(request.POST.get("index", 0))
        except (TypeError, ValueError):
            self.message_user(request, _("The action form was not valid; nothing was done."), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        select_across = BooleanField(required=False).to_python(request.POST.get("select_across"))
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not select_across and selected:
            ids = [self._clean_id(self.opts.pk, raw) for raw in selected]
            if _INVALID in ids:
                self.message_user(
                    request,
                    _("The selection contains something that is not an id of a %(name)s; nothing was done.")
                    % {"name": self.opts.verbose_name},
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.get_full_path())
            if not queryset.filter(pk__in=ids).exists():
                self.message_user(
                    request,
                    _("None of the selected %(name)s exist any more; nothing was done.")
                    % {"name": self.opts.verbose_name_plural},
                    messages.WARNING,
                )
                return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    # --- autocomplete fields -----------------------------------------------------------------------------

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- the admin site's own views -----------------------------------------------------------------------


def _guard_autocomplete(site, view):
    def guarded(request, *args, **kwargs):
        problem = search_term_problem(request.GET.get("term")) if site.has_permission(request) else None
        if problem:
            return JsonResponse(
                {"results": [{"id": "", "text": problem, "disabled": True}], "pagination": {"more": False}}
            )
        return view(request, *args, **kwargs)

    return update_wrapper(guarded, view)


def _guard_site_search(site, view):
    def guarded(request, *args, **kwargs):
        if not site.has_permission(request):
            return view(request, *args, **kwargs)
        problem = search_term_problem(request.GET.get("s"))
        if problem:
            return HttpResponse(format_html('<p class="px-4 py-3 text-sm">{}</p>', problem))
        page = request.GET.get("page")
        if page is not None and not _PAGE.fullmatch(page):
            request.GET = request.GET.copy()
            request.GET["page"] = "1"
        try:
            return view(request, *args, **kwargs)
        except InvalidPage:
            return HttpResponse("")

    return update_wrapper(guarded, view)


SITE_GUARDS = {"autocomplete": _guard_autocomplete, "search": _guard_site_search}


def hardened_site_urls(site):
    """``site.urls`` with the site-level views (autocomplete, Unfold's search) guarded like the
    admins' own; use it in place of ``site.urls`` in the URLconf."""
    patterns, app_name, namespace = site.urls
    guarded = [
        URLPattern(p.pattern, SITE_GUARDS[p.name](site, p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern) and p.name in SITE_GUARDS
        else p
        for p in patterns
    ]
    return guarded, app_name, namespace
