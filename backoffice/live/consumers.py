"""The admin's one WebSocket, ``/ws/live/``: relays the events of the groups a person may see.

Refused (HTTP 403 on the handshake) unless the admin session belongs to an active staff member and
is within its idle and absolute lifetime. Every LIVE_RECHECK_SECONDS the session is read again: a
socket whose session ended is closed, and groups are re-joined from the person's current
permissions (which also renews a Redis layer's group expiry, far shorter than its day)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from backoffice.live import EVENT
from backoffice.live.access import groups_for_session
from backoffice.live.groups import session_tag

logger = logging.getLogger(__name__)

# Close codes the browser script understands: do not reconnect at once (4401), or do (4000).
CLOSE_SESSION_ENDED = 4401
CLOSE_RECONNECT = 4000


class LiveConsumer(AsyncJsonWebsocketConsumer):
    joined: frozenset = frozenset()
    _recheck: asyncio.Task | None = None

    def _session_key(self) -> str | None:
        session = self.scope.get("session")
        return getattr(session, "session_key", None)

    async def connect(self):
        groups = await database_sync_to_async(groups_for_session)(self._session_key())
        if not groups:
            await self.close()  # before accept: the handshake is answered 403
            return
        await self._join(groups)
        await self.accept()
        self._recheck = asyncio.ensure_future(self._recheck_loop())

    async def _join(self, groups: list[str]) -> None:
        wanted = frozenset(groups)
        for group in self.joined - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in wanted:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = wanted

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(settings.LIVE_RECHECK_SECONDS)
            try:
                groups = await database_sync_to_async(groups_for_session)(self._session_key())
            except Exception:  # a database hiccup: ask the client to come back
                logger.warning("Live session recheck failed", exc_info=True)
                await self.close(code=CLOSE_RECONNECT)
                return
            if not groups:
                await self.close(code=CLOSE_SESSION_ENDED)
                return
            await self._join(groups)

    async def disconnect(self, code):
        if self._recheck is not None:
            self._recheck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recheck
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = frozenset()

    async def receive_json(self, content, **kwargs):
        # The browser only listens; a ping keeps proxies from closing an idle socket and is not
        # activity for the session.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > 1024:
            return  # nothing a client needs to say is binary or long
        try:
            await super().receive(text_data=text_data, **kwargs)
        except ValueError:
            return  # not JSON

    async def dispatch(self, message):
        # Relaying a pushed event touches no database: skip Channels' close_old_connections() before
        # each message, a trip through the one shared sync thread per socket that would serialise a
        # fan-out to every socket of the process (measured: benchmark live, docs/PERFORMANCE.md).
        if message.get("type") == EVENT:
            await self.live_event(message)
            return
        await super().dispatch(message)

    async def live_event(self, message):
        await self.send_json(message["event"])

    async def live_close(self, message):
        session = message.get("session")
        if session is None or session == session_tag(self._session_key()):
            await self.close(code=CLOSE_SESSION_ENDED)
