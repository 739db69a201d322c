"""A local receiver (a ThreadingHTTPServer in this process) and endpoints pointing at it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from backoffice.webhooks import services


class _Server(ThreadingHTTPServer):
    # Several sweepers send at once: the default backlog of 5 drops connections on a loaded machine.
    request_queue_size = 128


class Receiver:
    """Records every request; ``behaviour`` decides the answer: "ok", "error" (503), "slow" (sleeps past the
    timeout), "redirect" (302), or "down" (not listening)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.behaviour = "ok"
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers.items()), "body": body, "path": self.path})
                behaviour = receiver.behaviour
                if behaviour == "slow":
                    time.sleep(3)
                status = {"ok": 204, "error": 503, "redirect": 302, "slow": 204}[behaviour]
                answer = b"" if status == 204 else b"x" * 5000
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def start_again(self) -> None:
        """Listen again on the same port (after ``stop``)."""
        handler = self.server.RequestHandlerClass
        self.server = _Server(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_TOTAL_TIMEOUT = 1.0
    settings.WEBHOOK_CONNECT_TIMEOUT = 1.0
    cache.delete("webhooks:subscribed-types")
    yield settings
    cache.delete("webhooks:subscribed-types")


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def make_endpoint(db):
    def make(url, events=("product.created", "product.updated", "product.deleted", "stock.changed"), **kwargs):
        endpoint, _secret = services.create_endpoint(url=url, events=list(events), **kwargs)
        return endpoint

    return make
