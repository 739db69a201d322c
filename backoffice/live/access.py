"""Who may hold a live socket, decided from the admin session exactly as a page request would be."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user

from backoffice.live.groups import allowed_groups
from backoffice.middleware import session_age_state


def load_session(session_key: str | None):
    """A fresh copy of the session (a logout or another tab's activity shows up); None if it is gone."""
    if not session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # A missing or expired session loads as empty, with no user in it.
    return store if store.get(SESSION_KEY) else None


def groups_for_session(session_key: str | None) -> list[str]:
    """The groups the session's person may join now, or [] when the socket must be refused or closed:
    no session, not an active staff member, or past the idle or absolute session lifetime.

    Reading a session for a socket never stamps it: only pages count as activity."""
    session = load_session(session_key)
    if session is None:
        return []
    if session_age_state(session) in ("new", "expired"):
        return []
    user = get_user(SimpleNamespace(session=session))
    return allowed_groups(user)
