"""A small reader and writer for the gettext .po files of this project (no polib in the environment).

It understands what makemessages writes: translator/extracted/reference comments, flags, previous-msgid
comments, msgctxt, msgid_plural with msgstr[n], and obsolete "#~" entries (kept verbatim, never counted).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
SHIPPED_LANGUAGES = ("de", "fr", "es")

# Placeholders a translation must keep: %(name)s, %s/%d, {0}/{name}, and HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]|%[sdifr]|\{[A-Za-z0-9_]*\}|</?[a-zA-Z][^>]*>")


@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # "#." and "#:" and "# " lines, verbatim
    previous: list[str] = field(default_factory=list)  # "#|" lines, dropped once an entry is reviewed
    obsolete_lines: list[str] | None = None  # an obsolete "#~" entry, kept as it was

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is not None:
            return [self.msgstr_plural[i] for i in sorted(self.msgstr_plural)]
        return [self.msgstr]


def _unquote(text: str) -> str:
    # A PO string is a C string; its escapes (\" \\ \n \t) are a subset of Python's.
    return ast.literal_eval(text)


def parse(text: str) -> tuple[Entry, list[Entry]]:
    """Return (header, entries), obsolete entries included with obsolete_lines set."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = block.splitlines()
        if not any(line.startswith(("msgid", "msgctxt")) for line in lines):
            entries.append(Entry(msgid="", obsolete_lines=lines))
            continue
        entry = Entry(msgid="")
        target: str | None = None
        values: dict[str, str] = {}
        for line in lines:
            if line.startswith("#,"):
                entry.flags.extend(flag.strip() for flag in line[2:].split(",") if flag.strip())
            elif line.startswith("#|"):
                entry.previous.append(line)
            elif line.startswith("#"):
                entry.comments.append(line)
            elif line.startswith('"'):
                values[target] += _unquote(line)
            else:
                keyword, _, rest = line.partition(" ")
                target = keyword
                values[target] = _unquote(rest)
        entry.msgid = values.pop("msgid", "")
        entry.msgctxt = values.pop("msgctxt", None)
        entry.msgid_plural = values.pop("msgid_plural", None)
        entry.msgstr = values.pop("msgstr", "")
        for keyword, value in values.items():
            entry.msgstr_plural[int(keyword[len("msgstr[") : -1])] = value
        entries.append(entry)
    header = entries.pop(0)
    return header, entries


def load(path: Path) -> tuple[Entry, list[Entry]]:
    return parse(path.read_text(encoding="utf-8"))


def live_entries(path: Path) -> list[Entry]:
    return [entry for entry in load(path)[1] if entry.obsolete_lines is None]


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    parts = escaped.split("\n")
    if len(parts) == 1:
        return f'"{escaped}"'
    # Multi-line strings: one source line per "\n", as msgmerge writes them.
    chunks = [part + "\\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return '""\n' + "\n".join(f'"{chunk}"' for chunk in chunks)


def format_entry(entry: Entry) -> str:
    if entry.obsolete_lines is not None:
        return "\n".join(entry.obsolete_lines)
    lines = [line for line in entry.comments if not line.startswith("#:") and not line.startswith("#.")]
    lines += [line for line in entry.comments if line.startswith("#.")]
    lines += [line for line in entry.comments if line.startswith("#:")]
    if entry.flags:
        lines.append("#, " + ", ".join(entry.flags))
    lines += entry.previous
    if entry.msgctxt is not None:
        lines.append("msgctxt " + _quote(entry.msgctxt))
    lines.append("msgid " + _quote(entry.msgid))
    if entry.msgid_plural is not None:
        lines.append("msgid_plural " + _quote(entry.msgid_plural))
        for index in sorted(entry.msgstr_plural):
            lines.append(f"msgstr[{index}] " + _quote(entry.msgstr_plural[index]))
    else:
        lines.append("msgstr " + _quote(entry.msgstr))
    return "\n".join(lines)


def dump(header: Entry, entries: list[Entry]) -> str:
    return "\n\n".join(format_entry(entry) for entry in [header, *entries]) + "\n"


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))
