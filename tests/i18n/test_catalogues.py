"""The shipped catalogues (de, fr, es) are complete, correct and compiled.

Complete: no untranslated and no fuzzy entry, also after the next makemessages (a string added to the code
and not yet extracted fails here). Correct: msgfmt --check passes and each translation keeps the placeholders
and HTML tags of its msgid. Compiled: the committed .mo holds every translation of the .po, so a fresh
machine needs no gettext to run the back office in any of the four languages.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n import pofile
from tests.i18n.translate import check, po_path

REPO = pofile.LOCALE_DIR.parent
LANGUAGES = pytest.mark.parametrize("language", pofile.SHIPPED_LANGUAGES)
# What the Makefile's `messages` target ignores, plus caches that hold no source.
NOT_SOURCE = {".venv", ".tools", "var", ".git", ".hypothesis", ".pytest_cache", ".ruff_cache", "node_modules"}
HOW_TO_FIX = (
    "run `make messages`, then `python -m tests.i18n.translate export LANG /tmp/LANG.json`, translate, "
    "`python -m tests.i18n.translate apply LANG /tmp/LANG.json` and `python manage.py compilemessages`"
)


def incomplete(path: Path) -> list[str]:
    return [
        ("fuzzy: " if entry.fuzzy else "untranslated: ") + entry.msgid
        for entry in pofile.live_entries(path)
        if entry.fuzzy or not entry.translated
    ]


def test_every_configured_language_but_english_ships_a_catalogue():
    assert {code for code, _ in settings.LANGUAGES} == {"en", *pofile.SHIPPED_LANGUAGES}
    for language in pofile.SHIPPED_LANGUAGES:
        assert po_path(language).is_file()
        assert po_path(language).with_suffix(".mo").is_file()


@LANGUAGES
def test_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    entries = pofile.live_entries(po_path(language))
    assert len(entries) > 500, "the catalogue looks truncated"
    missing = incomplete(po_path(language))
    assert not missing, f"{len(missing)} entries to translate in {language} ({HOW_TO_FIX}):\n" + "\n".join(missing)


@LANGUAGES
def test_translations_keep_placeholders_tags_and_whitespace(language):
    problems = []
    for entry in pofile.live_entries(po_path(language)):
        problems += check(entry, entry.translations)
    assert not problems, "\n".join(problems)


@LANGUAGES
def test_header_names_the_language_and_its_plural_forms(language):
    header, _ = pofile.load(po_path(language))
    assert f"Language: {language}\n" in header.msgstr
    assert "Plural-Forms: nplurals=" in header.msgstr
    assert not header.fuzzy


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
@LANGUAGES
def test_msgfmt_check_accepts_the_catalogue(language):
    # --check: format strings agree with the msgid, plural forms agree with the header.
    result = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(po_path(language))], capture_output=True, text=True
    )
    errors = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert result.returncode == 0 and not errors, result.stderr


@LANGUAGES
def test_compiled_catalogue_holds_every_translation_of_the_po(language):
    """A stale .mo (a .po edited, compilemessages not run) misses or differs on some entry."""
    with po_path(language).with_suffix(".mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog
    stale = []
    for entry in pofile.live_entries(po_path(language)):
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            found = [catalog.get(key)]
        else:
            found = [catalog.get((key, index)) for index in sorted(entry.msgstr_plural)]
        if found != entry.translations:
            stale.append(entry.msgid)
    assert not stale, f"{len(stale)} entries differ from the .mo; run `python manage.py compilemessages`:\n" + (
        "\n".join(stale[:20])
    )


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext's xgettext is not installed")
def test_catalogues_stay_complete_after_makemessages(tmp_path):
    """Extract the strings from a copy of the sources, as `make messages` does, and merge them into copies
    of the catalogues: a string of ours that is not in them yet shows up as untranslated (or fuzzy)."""
    copy = tmp_path / "src"
    shutil.copytree(
        REPO,
        copy,
        ignore=lambda directory, names: [
            name for name in names if name in NOT_SOURCE or name.endswith((".mo", ".pyc", ".sqlite3"))
        ],
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", *[f"-l{code}" for code in pofile.SHIPPED_LANGUAGES]]
        + [f"--ignore={name}" for name in sorted(NOT_SOURCE)],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    problems = {}
    for language in pofile.SHIPPED_LANGUAGES:
        missing = incomplete(copy / "locale" / language / "LC_MESSAGES" / "django.po")
        if missing:
            problems[language] = missing
    assert not problems, f"strings not translated yet ({HOW_TO_FIX}):\n" + "\n".join(
        f"{language}: {msgid}" for language, missing in problems.items() for msgid in missing
    )
