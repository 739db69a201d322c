"""Every admin page rendered in German shows none of our msgids untranslated.

The pages: the dashboard, every changelist, every add page, the change page of a seeded object of every
admin, and the import and export pages. The msgids looked for are those of locale/de whose German differs
from the English. A string of ours reaches a page as a text node of its own (a label, a header, a message,
a help text), so a msgid is found when a whole visible text node reads as it: placeholders match any text,
a leading capital and a trailing colon are allowed (Django adds both to field labels). Matching whole nodes
keeps third-party English ("you can change the password using this form") and seeded data from counting.
"""

import contextlib
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst

from tests.i18n import pofile
from tests.i18n.translate import po_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reset_lockouts")]

# Language names in the switcher are written in their own language on purpose ("English", "Français").
SHOWN_IN_THEIR_OWN_LANGUAGE = {"English", "German", "French", "Spanish"}
# Permission names are rows written at migrate time, in English, by Django for every model; they are
# data, not text of the page (Django does not translate them either).
DATA_SELECTS = {"user_permissions", "permissions", "user_permissions_old", "permissions_old"}
# The export form lists the columns of the file by their names in it ("price", "brand"): the file's header
# row, which the import reads back in any language, so they stay as they are.
FILE_COLUMNS = "selectable-field-export-row"


class TextNodes(HTMLParser):
    """The visible text nodes of a page: no scripts, styles, templates, icon ligatures or permission lists."""

    SKIPPED = {"script", "style", "template", "textarea", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        classes = attrs.get("class") or ""
        icon = tag == "span" and "material-symbols-outlined" in classes
        data = (tag == "select" and attrs.get("name") in DATA_SELECTS) or FILE_COLUMNS in classes
        if tag in self.SKIPPED or icon or data:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        text = " ".join(data.split()).removesuffix(":").strip()
        if text and not self.skipping:
            self.nodes.append(text)


def text_nodes(page: str) -> list[str]:
    parser = TextNodes()
    parser.feed(page)
    return parser.nodes


def english_msgids() -> tuple[dict[str, str], list[tuple[re.Pattern, str]], set[str]]:
    """(plain text -> msgid, [(pattern, msgid)] for msgids with placeholders) of what German changes,
    and the German translations themselves: a node that reads as one of them is translated, even when a
    loose pattern would take it ("Import abgeschlossen" for "Import %(name)s")."""
    plain, patterns, german_texts = {}, [], set()
    for entry in pofile.live_entries(po_path("de")):
        german_texts.update(" ".join(text.split()).removesuffix(":") for text in entry.translations)
        if entry.msgid in SHOWN_IN_THEIR_OWN_LANGUAGE:
            continue
        english = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
        for msgid, german in zip(english, entry.translations, strict=False):
            if german.casefold() == msgid.casefold():
                continue  # the same in both languages ("Status", "Webhooks"): nothing to detect
            text = " ".join(msgid.replace("%%", "%").split()).removesuffix(":")
            parts = pofile.PLACEHOLDER.split(text)
            if len(parts) == 1:
                plain[text] = plain[capfirst(text)] = msgid
            elif sum(ch.isalpha() for part in parts for ch in part) >= 3:
                # A msgid that is nearly all placeholder ("%(name)s: %(count)s") cannot be told from data.
                body = ".+?".join(re.escape(part) for part in parts)
                patterns.append((re.compile(f"(?:{body})", re.S), msgid))
    return plain, patterns, german_texts


@pytest.fixture
def world(superuser):
    """A row for every admin, named in German, so any English on a page is ours (or a library's)."""
    from tests.factories import BrandFactory, CategoryFactory, CustomerFactory, ProductFactory, TagFactory
    from tests.test_admin_robustness import world

    parent = CategoryFactory(name="Haushalt", slug="haushalt", path="Haushalt")
    category = CategoryFactory(name="Küche", slug="kueche", parent=parent, path="Haushalt / Küche")
    product = ProductFactory(
        sku="TOPF-24", name="Kochtopf 24 cm", category=category, brand=BrandFactory(name="Kochwerk"), stock=10
    )
    product.tags.add(TagFactory(name="edelstahl", slug="edelstahl"))
    CustomerFactory(name="Erika Mustermann", billing_name="Erika Mustermann", email="erika@beispiel.de")
    return world.__wrapped__(superuser)


def admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for suffix in ("changelist", "add", "import", "export"):
            with contextlib.suppress(NoReverseMatch):
                pages.append(reverse(f"{info}_{suffix}"))
        # The German rows of the world were created first, so they are the first by id.
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            pages.append(reverse(f"{info}_change", args=[obj.pk]))
    return pages


def test_admin_pages_in_german_show_no_english_msgid(admin_client, world):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    plain, patterns, german_texts = english_msgids()
    assert len(plain) > 400, "fewer msgids to look for than expected: is locale/de complete?"
    rendered, found = 0, {}
    for url in admin_pages():
        response = admin_client.get(url)
        if response.status_code != 200:
            # An add page the admin does not offer (orders are placed, not added) or an export by POST only.
            assert response.status_code in (302, 403, 405), f"{url} answered {response.status_code}"
            continue
        assert response.headers["Content-Language"] == "de", url
        rendered += 1
        for node in text_nodes(response.content.decode()):
            if node in plain:
                found.setdefault(url, set()).add(plain[node])
                continue
            if node in german_texts:
                continue
            for pattern, msgid in patterns:
                if pattern.fullmatch(node):
                    found.setdefault(url, set()).add(f"{msgid} (as “{node[:120]}”)")
    assert rendered > 40, f"only {rendered} admin pages rendered"
    assert not found, "English on German pages:\n" + "\n".join(
        f"{url}: " + "; ".join(sorted(items)) for url, items in found.items()
    )
