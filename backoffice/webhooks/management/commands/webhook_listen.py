"""A receiver for trying webhooks out: verifies each message's signature and prints the event.

    python manage.py webhook_listen --secret whsec_... [--port 8765]
    python manage.py webhook_listen --endpoint <uuid>     (reads the secret of that endpoint)

Answers 204 to a valid message and 401 to one whose signature or timestamp does not check out."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError

from backoffice.webhooks.signing import InvalidSecret, VerificationError, secret_key, verify

MAX_BODY = 5 * 1024 * 1024
# What a line shows of an event's data (the whole of it when none of these is there).
SUMMARY_FIELDS = ("id", "sku", "number", "status", "stock", "total", "change", "updated_at", "message")


def make_handler(secrets: list[str], write, *, tolerance: int):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._answer(413 if length > MAX_BODY else 400, "bad Content-Length")
                return
            body = self.rfile.read(length)
            msg_id = self.headers.get("webhook-id", "")
            for secret in secrets:
                try:
                    verify(
                        secret,
                        msg_id=msg_id,
                        timestamp=self.headers.get("webhook-timestamp", ""),
                        signature=self.headers.get("webhook-signature", ""),
                        body=body,
                        tolerance=tolerance,
                    )
                    break
                except VerificationError as exc:
                    error = str(exc)
            else:
                write(f"REFUSED {msg_id}: {error}")
                self._answer(401, error)
                return
            try:
                event = json.loads(body)
                data = event.get("data") or {}
                shown = {key: data[key] for key in SUMMARY_FIELDS if key in data}
                summary = json.dumps(shown or data)[:400]
                write(f"{event.get('timestamp')} {event.get('type')} {msg_id} {summary}")
            except (ValueError, AttributeError):
                write(f"verified {msg_id}, but the body is not a JSON object")
            self._answer(204, "")

        def _answer(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass

    return Handler


class Command(BaseCommand):
    help = "Receive webhooks on a local port: verify their signatures and print the events."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--secret", action="append", default=[], help="whsec_...; repeat for several")
        parser.add_argument("--endpoint", help="id of a webhook endpoint whose secrets to use")
        parser.add_argument("--tolerance", type=int, default=300, help="seconds a timestamp may be off")

    def handle(self, *args, **options):
        secrets = list(options["secret"])
        if options["endpoint"]:
            from django.core.exceptions import ValidationError

            from backoffice.webhooks.models import WebhookEndpoint

            try:
                endpoint = WebhookEndpoint.objects.filter(pk=options["endpoint"]).first()
            except ValidationError as exc:
                raise CommandError("--endpoint takes an endpoint id (a UUID).") from exc
            if endpoint is None:
                raise CommandError("No webhook endpoint has this id.")
            secrets.extend(endpoint.signing_secrets())
        if not secrets:
            raise CommandError("Give --secret whsec_... or --endpoint <id>.")
        for secret in secrets:
            try:
                secret_key(secret)
            except InvalidSecret as exc:
                raise CommandError(str(exc)) from exc

        def write(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        server = ThreadingHTTPServer(
            (options["host"], options["port"]), make_handler(secrets, write, tolerance=options["tolerance"])
        )
        write(f"Listening for webhooks on http://{options['host']}:{server.server_port}/ (Ctrl+C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
