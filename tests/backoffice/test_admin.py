import pytest
from django.urls import reverse

from backoffice import jobs
from backoffice.models import Job
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job(django_capture_on_commit_callbacks, superuser):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job("backoffice.selftest", items=range(5), params={"fail": [2]}, user=superuser)
    job.refresh_from_db()
    return job


def test_dashboard_shell(admin_client, finished_job):
    response = admin_client.get("/admin/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Development" in content  # environment label
    assert "Jobs running or queued" in content  # KPI card
    for group in ("Jobs", "Users &amp; roles"):
        assert group in content
    assert reverse("admin:backoffice_job_changelist") in content
    assert "/i18n/setlang/" in content  # language switcher


def test_sidebar_is_permission_aware(client):
    user = UserFactory(is_staff=True, perms=["backoffice.view_job"])
    client.force_login(user)
    content = client.get("/admin/").content.decode()
    assert reverse("admin:backoffice_job_changelist") in content
    assert reverse("admin:auth_user_changelist") not in content
    assert "Users &amp; roles" not in content


def test_language_switch_to_german(admin_client):
    admin_client.post("/i18n/setlang/", {"language": "de", "next": "/admin/"})
    content = admin_client.get("/admin/").content.decode()
    assert 'lang="de"' in content
    assert "Laufende oder wartende Aufträge" in content  # our own strings, from locale/
    assert "Benutzer &amp; Rollen" in content
    assert "Entwicklung" in content  # environment label


def test_job_changelist_constant_queries(
    admin_client, django_capture_on_commit_callbacks, superuser, django_assert_max_num_queries
):
    url = reverse("admin:backoffice_job_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            jobs.start_job("backoffice.selftest", items=[1], user=superuser)
    with django_assert_max_num_queries(12) as few:
        assert admin_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(40):
            jobs.start_job("backoffice.selftest", items=[1], user=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(url)
    assert response.content.decode().count("data-job-progress") == 0


def test_job_change_page_shows_errors_and_progress(admin_client, finished_job):
    response = admin_client.get(reverse("admin:backoffice_job_change", args=[finished_job.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Item 2 was asked to fail." in content
    assert "Finished with errors" in content
    assert "4 / 1 / 5" in content
    # a finished job offers retry, not cancel, and nothing to save
    assert reverse("admin:backoffice_job_retry_detail", args=[finished_job.pk]) in content
    assert reverse("admin:backoffice_job_cancel_detail", args=[finished_job.pk]) not in content
    assert 'name="_continue"' not in content


def test_running_job_polls_progress(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = jobs.start_job("backoffice.selftest", items=range(5))
    content = admin_client.get(reverse("admin:backoffice_job_changelist")).content.decode()
    assert reverse("admin:backoffice_job_progress", args=[job.pk]) in content
    assert "backoffice/js/job_progress.js" in content
    progress = admin_client.get(reverse("admin:backoffice_job_progress", args=[job.pk])).json()
    assert progress == {
        "status": "queued",
        "status_display": "Queued",
        "active": True,
        "done": 0,
        "failed": 0,
        "total": 5,
        "percent": 0,
    }


def test_job_actions_need_change_permission(client, finished_job):
    viewer = UserFactory(is_staff=True, perms=["backoffice.view_job"])
    client.force_login(viewer)
    change_url = reverse("admin:backoffice_job_change", args=[finished_job.pk])
    content = client.get(change_url).content.decode()
    assert "Retry failed items" not in content
    retry = reverse("admin:backoffice_job_retry_detail", args=[finished_job.pk])
    assert client.post(retry, {"_form_submitted": "1"}).status_code == 403
    finished_job.refresh_from_db()
    assert finished_job.failed == 1


def test_retry_and_cancel_from_the_admin(admin_client, finished_job, django_capture_on_commit_callbacks):
    retry = reverse("admin:backoffice_job_retry_detail", args=[finished_job.pk])
    # A GET only shows the confirmation dialog; it changes nothing.
    assert admin_client.get(retry).status_code == 200
    finished_job.refresh_from_db()
    assert finished_job.status == Job.Status.PARTIAL
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(retry, {"_form_submitted": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == reverse("admin:backoffice_job_change", args=[finished_job.pk])
    finished_job.refresh_from_db()
    assert finished_job.status == Job.Status.PARTIAL  # item 2 fails again: the params still say so
    assert finished_job.failed == 1 and finished_job.done == 4

    cancel = reverse("admin:backoffice_job_cancel_detail", args=[finished_job.pk])
    response = admin_client.post(cancel, {"_form_submitted": "1"}, follow=True)
    assert "already finished" in response.content.decode()


def test_bulk_cancel(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        queued = jobs.start_job("backoffice.selftest", items=[1])
    response = admin_client.post(
        reverse("admin:backoffice_job_changelist"),
        {"action": "cancel_selected", "_selected_action": [str(queued.pk)]},
        follow=True,
    )
    assert "1 job cancelled." in response.content.decode()
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED


def test_jobs_cannot_be_added_or_edited_by_hand(admin_client, finished_job):
    assert admin_client.get(reverse("admin:backoffice_job_add")).status_code == 403


def test_result_download_checks_permission(client, admin_client, finished_job):
    from django.core.files.base import ContentFile

    finished_job.result_file.save("export.csv", ContentFile(b"sku,name\n"), save=True)
    url = reverse("admin:backoffice_job_download", args=[finished_job.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"sku,name\n"
    outsider = UserFactory(is_staff=True)
    client.force_login(outsider)
    assert client.get(url).status_code == 403


def test_missing_result_file_is_a_404_not_a_500(admin_client, finished_job):
    assert admin_client.get(reverse("admin:backoffice_job_download", args=[finished_job.pk])).status_code == 404


def test_users_admin_uses_unfold_forms(admin_client, superuser):
    response = admin_client.get(reverse("admin:auth_user_change", args=[superuser.pk]))
    assert response.status_code == 200
    from unfold.forms import UserChangeForm

    assert isinstance(response.context["adminform"].form, UserChangeForm)
    assert admin_client.get(reverse("admin:auth_user_history", args=[superuser.pk])).status_code == 200
