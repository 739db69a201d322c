"""``benchmark live``: one event published from sync code, fanned out to N sockets (default 1,000).

One uvicorn process serves ``backoffice.asgi`` with the Redis pub/sub channel layer; the clients run in
another process (asyncio + websockets), each sending an Origin and the admin session cookie, all in
one person's group. Each round the suite calls the publisher with ``monotonic_ns()`` in the event; the
client process notes when the *last* socket got it (CLOCK_MONOTONIC is shared by processes of one
machine) and reports per round. Results: p50 and p99 of publish() -> last receipt, and the server's
memory per connection (RSS growth from 0 to N sockets / N).

Baseline: the same rounds published the stock way from sync code, ``async_to_sync(layer.group_send)``,
which builds a layer and a Redis connection per call. Bounded (every wait has a timeout) and
self-stopping (the processes are killed on the way out). Needs REDIS_URL.

This module imports nothing of Django at the top: the client process imports it to run
:func:`run_clients`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import Result, suite

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 40
ROUND_TIMEOUT = 15
CONNECT_TIMEOUT = 240


# --- the client process -------------------------------------------------------------------------------------


def _raise_open_files(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def _clients(url: str, origin: str, cookie: str, count: int, rounds: int) -> None:
    from websockets.asyncio.client import connect

    sockets = []
    started = time.monotonic()
    for offset in range(0, count, 100):
        batch = [
            connect(
                url,
                origin=origin,
                additional_headers={"Cookie": cookie},
                ping_interval=None,
                compression=None,
                open_timeout=60,
                max_queue=None,
            )
            for _ in range(min(100, count - offset))
        ]
        sockets += await asyncio.gather(*batch)
    print(json.dumps({"ready": len(sockets), "connect_seconds": time.monotonic() - started}), flush=True)

    received: dict[int, list[int]] = {}

    async def listen(ws):
        async for raw in ws:
            now = time.monotonic_ns()
            event = json.loads(raw)
            if event.get("type") != "bench":
                continue
            arrivals = received.setdefault(event["seq"], [])
            arrivals.append(now)
            if len(arrivals) == count:
                latency = (max(arrivals) - event["sent_at"]) / 1e6
                first = (min(arrivals) - event["sent_at"]) / 1e6
                print(json.dumps({"seq": event["seq"], "last_ms": latency, "first_ms": first}), flush=True)

    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    # The parent ends the run by closing stdin (or by killing this process).
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def run_clients(url: str, origin: str, cookie: str, count: int, rounds: int) -> None:
    _raise_open_files(count + 256)
    try:
        import uvloop  # what uvicorn runs on too; the clients must not be the slower side

        uvloop.run(_clients(url, origin, cookie, count, rounds))
    except ImportError:
        asyncio.run(_clients(url, origin, cookie, count, rounds))


# --- the suite ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far: the work a fan-out costs, whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _session_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = int(time.time())
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["_session_started_at"] = now
    store["_session_seen_at"] = now
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _database_url() -> str:
    """The database this process uses (the test database under pytest), for the server process."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _wait_http(port: int, process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("uvicorn did not start")


def _read_line(process, timeout: float) -> dict:
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError("no answer from the client process")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("the client process ended")
    return json.loads(line)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@suite("live", default_rows=1_000)
def live_suite(rows: int, stdout) -> list[Result]:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from backoffice.live.groups import user_group
    from backoffice.live.publisher import send

    if not settings.REDIS_URL:
        raise RuntimeError("benchmark live needs REDIS_URL (the Redis channel layer); see bin/services")
    user = get_user_model().objects.create_user(f"live-bench-{os.getpid()}-{time.time_ns()}", is_staff=True)
    cookie = _session_cookie(user)
    group = user_group(user.pk)
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "LIVE_RECHECK_SECONDS": "3600", "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
        [
            *(sys.executable, "-m", "uvicorn", "backoffice.asgi:application", "--host", "127.0.0.1"),
            *("--port", str(port), "--lifespan", "off", "--log-level", "warning"),
            *("--ws-ping-interval", "0", "--backlog", "4096"),
        ],
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: _raise_open_files(rows + 512),  # only raises a limit
        stderr=subprocess.DEVNULL,
    )
    clients = None
    try:
        _wait_http(port, server, 60)
        rss_before = _rss_kb(server.pid)
        clients = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            [
                sys.executable,
                "-c",
                "import sys; from benchmarks.live import run_clients; "
                "run_clients(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))",
                f"ws://127.0.0.1:{port}/ws/live/",
                origin,
                cookie,
                str(rows),
                str(ROUNDS),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = _read_line(clients, CONNECT_TIMEOUT)
        if ready.get("ready") != rows:
            raise RuntimeError(f"only {ready} sockets connected")
        time.sleep(1)
        rss_after = _rss_kb(server.pid)
        stdout.write(f"  {rows:,} sockets connected in {ready['connect_seconds']:.1f} s")

        def rounds(publish) -> tuple[list[float], list[float], list[float]]:
            last, first, calls = [], [], []
            cpu_before = _cpu_ms(server.pid), _cpu_ms(clients.pid)
            for seq in range(ROUNDS):
                started = time.monotonic_ns()
                publish({"type": "bench", "seq": seq + len(rounds.seen), "sent_at": started})
                calls.append((time.monotonic_ns() - started) / 1e6)
                answer = _read_line(clients, ROUND_TIMEOUT)
                last.append(answer["last_ms"])
                first.append(answer["first_ms"])
                time.sleep(0.05)
            rounds.seen += [seq] * ROUNDS
            server_ms, clients_ms = _cpu_ms(server.pid) - cpu_before[0], _cpu_ms(clients.pid) - cpu_before[1]
            cpu.append((server_ms / ROUNDS, clients_ms / ROUNDS))
            return last, first, calls

        rounds.seen = []
        cpu = []  # (server, clients) CPU ms per event, per contender
        # Warm-up round (first publish opens the publisher's connection).
        send(group, {"type": "live.event", "event": {"type": "warmup"}})
        ours_last, ours_first, ours_calls = rounds(lambda event: send(group, {"type": "live.event", "event": event}))
        layer = get_channel_layer()
        stock_last, stock_first, stock_calls = rounds(
            lambda event: async_to_sync(layer.group_send)(group, {"type": "live.event", "event": event})
        )
    finally:
        for process in (clients, server):
            if process is not None and process.poll() is None:
                if process is clients:
                    process.stdin.close()
                    try:
                        process.wait(timeout=20)
                        continue
                    except subprocess.TimeoutExpired:
                        pass
                process.kill()
                process.wait(timeout=20)
        user.delete()

    per_connection_kb = (rss_after - rss_before) / rows

    def result(name, last, first, calls, cpu_ms, baseline=None) -> Result:
        return Result(
            name=name,
            seconds=_percentile(last, 0.5) / 1000,
            units=rows,
            unit="sockets",
            baseline=baseline,
            extra={
                "p50_ms": round(_percentile(last, 0.5), 1),
                "p99_ms": round(_percentile(last, 0.99), 1),
                "max_ms": round(max(last), 1),
                "first_receipt_p50_ms": round(_percentile(first, 0.5), 1),
                "publish_call_p50_ms": round(_percentile(calls, 0.5), 2),
                # The 50 ms pause between rounds is idle: this is the fan-out's own cost.
                "server_cpu_ms_per_event": round(cpu_ms[0], 1),
                "clients_cpu_ms_per_event": round(cpu_ms[1], 1),
                "load_average": round(os.getloadavg()[0], 1),
                "rounds": len(last),
                "server_rss_per_connection_kb": round(per_connection_kb, 1),
                "connect_seconds": round(ready["connect_seconds"], 1),
            },
        )

    results = [
        result("stock async_to_sync(group_send)", stock_last, stock_first, stock_calls, cpu[1]),
        result(
            "publisher (one Redis client)",
            ours_last,
            ours_first,
            ours_calls,
            cpu[0],
            baseline="stock async_to_sync(group_send)",
        ),
    ]
    for r in results:
        stdout.write(
            f"  {r.name}: publish -> last of {rows:,} sockets p50 {r.extra['p50_ms']} ms, "
            f"p99 {r.extra['p99_ms']} ms (first receipt p50 {r.extra['first_receipt_p50_ms']} ms; "
            f"the publish call itself p50 {r.extra['publish_call_p50_ms']} ms)"
        )
    for r in results:
        stdout.write(
            f"  {r.name}: CPU per event: server {r.extra['server_cpu_ms_per_event']} ms, "
            f"clients {r.extra['clients_cpu_ms_per_event']} ms (load average {r.extra['load_average']})"
        )
    stdout.write(f"  server memory per connection: {per_connection_kb:.1f} KiB")
    return results
