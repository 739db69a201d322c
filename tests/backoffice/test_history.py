import pytest
from django.contrib.auth.models import User

from backoffice import jobs
from backoffice.history import acting_as_job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_admin_change_records_the_request_user(admin_client, superuser):
    target = UserFactory(first_name="Ann")
    response = admin_client.post(
        f"/admin/auth/user/{target.pk}/change/",
        {
            "username": target.username,
            "first_name": "Anna",
            "last_name": "",
            "email": target.email,
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    record = target.history.first()
    assert record.first_name == "Anna"
    assert record.history_user == superuser
    assert record.history_job is None


def test_changes_inside_a_job_record_the_job_and_its_requester(django_capture_on_commit_callbacks, superuser):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.start_job("backoffice.selftest", items=[1], user=superuser)
    target = UserFactory()
    with acting_as_job(job):
        target.first_name = "Changed by job"
        target.save()
    record = target.history.first()
    assert record.history_job_id == job.pk
    assert record.history_user == superuser
    assert str(job.pk) in record.history_change_reason


def test_password_is_not_kept_in_history():
    user = UserFactory()
    assert not hasattr(User.history.model, "password") or "password" not in {
        f.name for f in User.history.model._meta.fields
    }
    assert user.history.count() == 1
