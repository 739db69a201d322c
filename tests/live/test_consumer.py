"""The /ws/live/ socket through the real ASGI application and the in-memory channel layer."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import Client

from backoffice import jobs
from backoffice.live import notify, publish
from backoffice.live.consumers import CLOSE_SESSION_ENDED
from tests.factories import UserFactory
from tests.live.conftest import communicator, session_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


def run(scenario):
    async_to_sync(scenario)()


async def connects(session_key, **kwargs) -> bool:
    socket = communicator(session_key, **kwargs)
    connected, _ = await socket.connect()
    await socket.disconnect()
    return connected


def test_anonymous_socket_is_refused(transactional_db):
    async def scenario():
        assert not await connects(None)
        assert not await connects("not-a-session")

    run(scenario)


def test_other_origin_is_refused(staff):
    key = session_for(staff)

    async def scenario():
        assert await connects(key)
        assert not await connects(key, origin=b"https://evil.example")
        assert not await connects(key, origin=None)
        # An allowed host that is not the one the socket was opened on is another site.
        assert not await connects(key, origin=b"http://localhost")

    run(scenario)


def test_trusted_origin_is_accepted(staff, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.com"]
    key = session_for(staff)

    async def scenario():
        assert await connects(key, origin=b"https://admin.example.com")

    run(scenario)


def test_non_staff_and_inactive_are_refused(transactional_db):
    customer_like = session_for(UserFactory(is_staff=False))
    inactive = UserFactory(is_staff=True)
    inactive_key = session_for(inactive)
    inactive.is_active = False
    inactive.save()

    async def scenario():
        assert not await connects(customer_like)
        assert not await connects(inactive_key)

    run(scenario)


def test_idle_or_too_old_session_is_refused(staff, settings):
    idle = session_for(staff, seen_ago=settings.SESSION_IDLE_TIMEOUT + 5)
    old = session_for(staff, started_ago=settings.SESSION_ABSOLUTE_LIFETIME + 5)
    fresh = session_for(staff, started_ago=60, seen_ago=settings.SESSION_IDLE_TIMEOUT - 60)

    async def scenario():
        assert not await connects(idle)
        assert not await connects(old)
        assert await connects(fresh)

    run(scenario)


def test_a_person_receives_own_notifications_not_anothers(staff):
    other = UserFactory(is_staff=True)
    mine, theirs = communicator(session_for(staff)), communicator(session_for(other))

    async def scenario():
        assert (await mine.connect())[0] and (await theirs.connect())[0]
        notification = await database_sync_to_async(notify)(
            staff, title="Export ready", body="1,000 rows", url="/admin/", level="success"
        )
        event = await mine.receive_json_from(timeout=5)
        assert event["type"] == "notification"
        assert event["notification"]["id"] == str(notification.pk)
        assert event["notification"]["title"] == "Export ready"
        assert await theirs.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_groups_follow_permissions(operator, staff):
    allowed, plain = communicator(session_for(operator)), communicator(session_for(staff))

    async def scenario():
        assert (await allowed.connect())[0] and (await plain.connect())[0]
        await database_sync_to_async(publish)("jobs", {"type": "job", "id": "x"})
        await database_sync_to_async(publish)("orders", {"type": "order.created", "number": "1"})
        await database_sync_to_async(publish)("catalog", {"type": "badge", "name": "low_stock"})
        received = [await allowed.receive_json_from(timeout=5), await allowed.receive_json_from(timeout=5)]
        assert {e["type"] for e in received} == {"job", "order.created"}
        assert await allowed.receive_nothing(timeout=0.3)  # no catalog permission
        assert await plain.receive_nothing(timeout=0.3)  # staff without any view permission
        await allowed.disconnect()
        await plain.disconnect()

    run(scenario)


def test_job_progress_arrives_while_a_job_runs(operator, settings):
    settings.LIVE_JOB_PROGRESS_INTERVAL = 0.05
    socket = communicator(session_for(operator))

    async def scenario():
        assert (await socket.connect())[0]
        # Eager Celery: the job runs in the thread that starts it; each chunk of 50 takes ~0.1 s.
        job = await database_sync_to_async(jobs.start_job)(
            "backoffice.selftest", items=range(300), params={"delay": 0.002}, user=operator
        )
        events = []
        while True:
            event = await socket.receive_json_from(timeout=10)
            events.append(event)
            if event["type"] == "notification":
                break
        progress = [e for e in events if e["type"] == "job"]
        assert all(e["id"] == str(job.pk) for e in progress)
        running = [e for e in progress if e["active"]]
        assert running and 0 < running[0]["percent"] < 100, events
        assert progress[-1]["status"] == "succeeded" and progress[-1]["percent"] == 100
        assert any(e["type"] == "badge" and e["name"] == "jobs" for e in events)
        assert events[-1]["notification"]["level"] == "success"
        assert events[-1]["notification"]["url"] == f"/admin/backoffice/job/{job.pk}/change/"
        await socket.disconnect()

    run(scenario)


def test_logout_closes_that_sessions_sockets(staff):
    key, other_key = session_for(staff), session_for(staff)
    socket, other_device = communicator(key), communicator(other_key)

    async def scenario():
        assert (await socket.connect())[0] and (await other_device.connect())[0]

        def log_out():
            client = Client()
            client.cookies["sessionid"] = key
            client.post("/admin/logout/")

        await database_sync_to_async(log_out)()
        closed = await socket.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
        assert await other_device.receive_nothing(timeout=0.3)
        await other_device.disconnect()

    run(scenario)


def test_recheck_closes_an_ended_session_and_never_stamps_activity(staff, settings):
    settings.LIVE_RECHECK_SECONDS = 0.2
    key = session_for(staff, seen_ago=600)
    expired = session_for(staff, seen_ago=settings.SESSION_IDLE_TIMEOUT - 1)
    socket, expiring = communicator(key), communicator(expired)

    async def scenario():
        assert (await socket.connect())[0] and (await expiring.connect())[0]
        # Sending and receiving over the socket, and several rechecks, are not activity.
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
        await socket.send_to(text_data="x" * 5000)  # ignored, the socket stays
        await socket.send_to(text_data="{not json")
        # The second session crosses its idle timeout while connected: closed at the next recheck.
        assert await expiring.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_SESSION_ENDED}
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    run(scenario)
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    assert store["_session_seen_at"] <= int(__import__("time").time()) - 590
