"""The translation delta workflow, re-runnable after every makemessages:

    python -m tests.i18n.translate export fr /tmp/fr.json   # untranslated and fuzzy entries, with the old guess
    python -m tests.i18n.translate apply fr /tmp/fr.json    # write the filled-in strings back, fuzzy flag dropped

The JSON is an object keyed by msgid ("msgctxt\\x04msgid" when there is a context); a value is the translation,
or a list of plural forms. apply refuses a translation whose placeholders or HTML tags differ from the msgid's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.i18n import pofile


def po_path(language: str) -> Path:
    return pofile.LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def json_key(entry: pofile.Entry) -> str:
    return entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"


def export(language: str, out: Path) -> int:
    todo = {}
    for entry in pofile.live_entries(po_path(language)):
        if entry.translated and not entry.fuzzy:
            continue
        item: dict = {"plural": entry.msgid_plural} if entry.msgid_plural is not None else {}
        if entry.fuzzy:
            item["guess"] = entry.translations
            item["was"] = " ".join(line[3:] for line in entry.previous)
        todo[json_key(entry)] = item
    out.write_text(json.dumps(todo, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(todo)


def check(entry: pofile.Entry, forms: list[str]) -> list[str]:
    problems = []
    sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
    expected = {tuple(pofile.placeholders(source)) for source in sources}
    for form in forms:
        if not form:
            problems.append(f"empty translation for {entry.msgid!r}")
        # A singular form may drop a count the plural keeps ("one product" for "%(count)s product").
        elif tuple(pofile.placeholders(form)) not in expected and not (
            entry.msgid_plural and set(pofile.placeholders(form)) <= set(pofile.placeholders(entry.msgid_plural))
        ):
            problems.append(f"placeholders differ in {entry.msgid!r}: {form!r}")
        if form and (
            form[:1].isspace() != entry.msgid[:1].isspace() or form[-1:].isspace() != entry.msgid[-1:].isspace()
        ):
            problems.append(f"leading/trailing whitespace differs in {entry.msgid!r}")
    return problems


def apply(language: str, source: Path) -> int:
    done = json.loads(source.read_text(encoding="utf-8"))
    path = po_path(language)
    header, entries = pofile.load(path)
    problems, applied = [], 0
    for entry in entries:
        if entry.obsolete_lines is not None or json_key(entry) not in done:
            continue
        value = done[json_key(entry)]
        forms = value if isinstance(value, list) else [value]
        if entry.msgid_plural is None and len(forms) != 1:
            problems.append(f"{entry.msgid!r} is not a plural entry")
            continue
        found = check(entry, forms)
        if found:
            problems += found
            continue
        if entry.msgid_plural is None:
            entry.msgstr = forms[0]
        else:
            entry.msgstr_plural = dict(enumerate(forms))
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        entry.previous = []
        applied += 1
    path.write_text(pofile.dump(header, entries), encoding="utf-8")
    if shutil.which("msgcat"):
        # Wrap lines as msgmerge does, so the next makemessages leaves the file as it is.
        subprocess.run(["msgcat", "-o", str(path), str(path)], check=True)
    for problem in problems:
        print(problem, file=sys.stderr)
    return applied


if __name__ == "__main__":
    command, language, file = sys.argv[1:4]
    count = (export if command == "export" else apply)(language, Path(file))
    print(f"{command} {language}: {count} entries")
