"""Integration keys: issue, look up, revoke.

A secret is ``bo_<8-char prefix>_<43 chars: 32 random bytes, base64url>``. The database holds
HMAC-SHA256(pepper, secret) under a unique index, so a look-up is one indexed query and a stolen table
is useless without the pepper (``API_KEY_PEPPER``). A password hasher would cost ~185 ms per request.

A found key is kept in the process for ``API_KEY_CACHE_SECONDS`` (default 5; 0 turns it off), which saves the
query on every request of a busy integration. Expiry is checked on every use. A change to a key (revocation,
scopes, expiry, deletion) forgets it at once in the process that makes it (a model signal) and reaches the
other processes when their copy is at most ``API_KEY_CACHE_SECONDS`` old: revocation is effective everywhere
within that time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.api.models import IntegrationKey, Scope

SECRET_RE = re.compile(r"^bo_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43,128})$")
# last_used_at is written at most this often per key: a write per request would serialise requests.
LAST_USED_RESOLUTION = timedelta(minutes=1)
CACHE_MAX_KEYS = 1000  # only keys that exist are kept, so this is never reached in practice; a bound anyway

# secret hash -> (monotonic time it was read, key)
_found: dict[str, tuple[float, IntegrationKey]] = {}
_found_lock = threading.Lock()


def pepper() -> bytes:
    value = getattr(settings, "API_KEY_PEPPER", "") or settings.SECRET_KEY
    return value.encode()


def hash_secret(secret: str) -> str:
    return hmac.new(pepper(), secret.encode(), hashlib.sha256).hexdigest()


def _new_secret() -> tuple[str, str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    prefix = "".join(secrets.choice(alphabet) for _i in range(8))
    body = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return prefix, f"bo_{prefix}_{body}"


def clean_scopes(scopes) -> list[str]:
    scopes = list(dict.fromkeys(scopes or ()))
    unknown = [scope for scope in scopes if scope not in Scope.values]
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(map(str, unknown))}}, code="scope"
        )
    return [scope for scope in Scope.values if scope in scopes]


def issue_key(*, name, scopes, expires_at=None, user=None) -> tuple[IntegrationKey, str]:
    """Create a key and return it with its secret; the secret is not stored and cannot be shown again."""
    scopes = clean_scopes(scopes)
    prefix, secret = _new_secret()
    key = IntegrationKey(
        name=(name or "").strip(),
        prefix=prefix,
        secret_hash=hash_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )
    key.full_clean()
    with transaction.atomic():
        key.save()
    return key, secret


def revoke_key(key: IntegrationKey) -> bool:
    if key.revoked_at is not None:
        return False
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    return True


def key_for_secret(secret: str) -> IntegrationKey | None:
    """The usable key holding ``secret``, or None. Malformed secrets never reach the database."""
    if not isinstance(secret, str) or len(secret) > 200 or not SECRET_RE.match(secret):
        return None
    digest = hash_secret(secret)
    ttl = settings.API_KEY_CACHE_SECONDS
    now = time.monotonic()
    hit = _found.get(digest)
    if hit is not None and now - hit[0] < ttl and hit[1].is_usable:
        key = hit[1]
    else:
        key = IntegrationKey.objects.usable().filter(secret_hash=digest).first()
        with _found_lock:
            if key is None or ttl <= 0:
                _found.pop(digest, None)
            else:
                if len(_found) >= CACHE_MAX_KEYS:
                    _found.clear()
                _found[digest] = (now, key)
        if key is None:
            return None
    touch(key)
    return key


def forget(key: IntegrationKey | None = None) -> None:
    """Drop ``key`` (every key when None) from this process's cache."""
    with _found_lock:
        if key is None:
            _found.clear()
            return
        for digest in [d for d, (_at, cached) in _found.items() if cached.pk == key.pk]:
            del _found[digest]


def _forget_changed(sender, instance, **kwargs) -> None:
    forget(instance)


post_save.connect(_forget_changed, sender=IntegrationKey, dispatch_uid="api-key-cache-save")
post_delete.connect(_forget_changed, sender=IntegrationKey, dispatch_uid="api-key-cache-delete")


def touch(key: IntegrationKey) -> None:
    """Record use at most once a minute per key (a conditional update: racing requests write once)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    threshold = now - LAST_USED_RESOLUTION
    from django.db.models import Q

    IntegrationKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=threshold)
    ).update(last_used_at=now)
    key.last_used_at = now
