"""CELERY_MEDIA_QUEUE: image rendering on a queue of its own, everything else on the default queue."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIA_TASKS = [
    "media_pipeline.generate_variants",
    "jobs.media_pipeline.regenerate_variants",
    "jobs.catalog.regenerate_images",
]
OTHER_TASKS = ["jobs.catalog.change_prices", "orders.send_notification", "backoffice.requeue_stalled_jobs"]
SHOW_ROUTES = (
    "import django; django.setup()\n"
    "from backoffice.celery import app\n"
    "import sys\n"
    "for name in sys.argv[1:]: print(name, app.amqp.router.route({}, name)['queue'].name)\n"
)


def routes(**env) -> dict[str, str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings", **env}
    result = subprocess.run(
        [sys.executable, "-c", SHOW_ROUTES, *MEDIA_TASKS, *OTHER_TASKS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(line.split() for line in result.stdout.splitlines())


def test_media_tasks_go_to_the_media_queue_when_it_is_set():
    queues = routes(CELERY_MEDIA_QUEUE="media", CELERY_TASK_DEFAULT_QUEUE="backoffice")
    assert {queues[name] for name in MEDIA_TASKS} == {"media"}
    assert {queues[name] for name in OTHER_TASKS} == {"backoffice"}


def test_without_it_everything_stays_on_the_default_queue(settings):
    from backoffice.celery import app

    assert settings.CELERY_TASK_ROUTES == {}
    default = settings.CELERY_TASK_DEFAULT_QUEUE
    assert {app.amqp.router.route({}, name)["queue"].name for name in MEDIA_TASKS + OTHER_TASKS} == {default}
