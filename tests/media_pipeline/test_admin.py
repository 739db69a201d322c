import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backoffice.models import Job
from media_pipeline.models import ImageAsset
from media_pipeline.services import ingest_image
from tests.factories import UserFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db
ADD_URL = reverse("admin:media_pipeline_imageasset_add")
CHANGELIST_URL = reverse("admin:media_pipeline_imageasset_changelist")


def upload(client, data: bytes, name="photo.jpg", **extra):
    return client.post(ADD_URL, {"upload": SimpleUploadedFile(name, data), **extra})


def test_upload_goes_through_ingest_and_renders(admin_client, superuser, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, corpus.jpeg(), focal_x="0.2", focal_y="0.8")
    assert response.status_code == 302
    asset = ImageAsset.objects.get()
    assert (asset.uploaded_by, asset.original_filename) == (superuser, "photo.jpg")
    assert (asset.focal_x, asset.focal_y) == (0.2, 0.8)
    assert asset.status == ImageAsset.Status.READY
    page = admin_client.get(reverse("admin:media_pipeline_imageasset_change", args=[asset.pk]))
    assert page.status_code == 200
    for variant in asset.variants.all():  # the gallery shows every variant
        assert variant.file.url in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"just some text, renamed", "not an image we accept"),
        (corpus.decompression_bomb(), "megapixels"),
        (corpus.truncated_jpeg(), "damaged or incomplete"),
        (corpus.jpeg_truncated_in_header(), "damaged or incomplete"),
        (corpus.truncated_webp(), "damaged or incomplete"),
        (corpus.SVG_WITH_SCRIPT, "not an image we accept"),
        (corpus.eps(), "not an image we accept"),
        (corpus.html_jpeg_polyglot(), None),
    ],
)
def test_bad_upload_is_a_form_error_and_stores_nothing(admin_client, settings, data, message):
    response = upload(admin_client, data, name="evil.jpg")
    if message is None:  # the polyglot decodes as a JPEG: accepted as an image, its HTML never served as HTML
        assert response.status_code == 302
        return
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["upload"]
    assert any(message in str(error) for error in errors), errors
    assert not ImageAsset.objects.exists()
    assert not list((settings.MEDIA_ROOT).glob("**/*.*"))


def test_oversized_upload_is_a_form_error(admin_client, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 10_000
    response = upload(admin_client, corpus.jpeg(1200, 800), name="big.jpg")
    assert response.status_code == 200
    assert "the limit is" in str(response.context["adminform"].form.errors["upload"])
    assert not ImageAsset.objects.exists()


def test_same_bytes_twice_point_to_the_existing_image(admin_client):
    data = corpus.jpeg()
    first = upload(admin_client, data, focal_x="0.3", focal_y="0.3")
    assert "already been uploaded" not in " ".join(str(m) for m in get_messages(first.wsgi_request))
    response = upload(admin_client, data, name="again.jpg", focal_x="0.9", focal_y="0.9")
    assert response.status_code == 302
    asset = ImageAsset.objects.get()
    assert response.url == reverse("admin:media_pipeline_imageasset_change", args=[asset.pk])
    assert "This image had already been uploaded; here it is." in [str(m) for m in get_messages(response.wsgi_request)]
    # the existing image keeps its name and focal point
    assert (asset.original_filename, asset.focal_x, asset.focal_y) == ("photo.jpg", 0.3, 0.3)


def test_duplicate_is_reported_from_ingest_not_from_timestamps(admin_client, monkeypatch):
    """An image created in the same instant as the request still counts as new: ingest says so."""
    from media_pipeline import services

    calls = []
    real = services.ingest_image_reporting

    def spy(*args, **kwargs):
        calls.append(kwargs["filename"])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "ingest_image_reporting", spy)
    response = upload(admin_client, corpus.jpeg(), focal_x="0.25", focal_y="0.75")
    assert response.status_code == 302
    assert calls == ["photo.jpg"]
    assert (ImageAsset.objects.get().focal_x, ImageAsset.objects.get().focal_y) == (0.25, 0.75)
    assert not [m for m in get_messages(response.wsgi_request) if "already" in str(m)]


def test_nothing_is_stored_when_another_field_is_invalid(admin_client, settings):
    response = upload(admin_client, corpus.jpeg(), focal_x="1.5", focal_y="0.5")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["focal_x"]
    assert not ImageAsset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.glob("**/*") if p.is_file()]


def test_a_refusal_while_saving_is_a_form_error_and_stores_nothing(admin_client, settings, monkeypatch):
    """The form only checks the upload; if ingest refuses it when the admin saves, the form shows why."""
    from django.core.exceptions import ValidationError

    from media_pipeline import services

    def refuse(*args, **kwargs):
        raise ValidationError("The image could not be stored. Try again.")

    monkeypatch.setattr(services, "ingest_image_reporting", refuse)
    response = upload(admin_client, corpus.jpeg(), focal_x="0.5", focal_y="0.5")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["upload"] == ["The image could not be stored. Try again."]
    assert not ImageAsset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.glob("**/*") if p.is_file()]


def test_validating_the_form_stores_nothing(superuser, settings):
    """clean() only checks the upload: ingest (and storage) happen in the admin's save path."""
    from media_pipeline.forms import ImageUploadForm

    form = ImageUploadForm(data={}, files={"upload": SimpleUploadedFile("p.jpg", corpus.jpeg())}, user=superuser)
    assert form.is_valid(), form.errors
    assert not ImageAsset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.glob("**/*") if p.is_file()]


def test_changelist_shows_thumbnails_with_constant_queries(
    admin_client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for width in range(300, 306):
            ingest_image(SimpleUploadedFile("p.jpg", corpus.jpeg(width, 200)), filename=f"p{width}.jpg")
    admin_client.get(reverse("admin:index"))  # the sidebar badges are counted once, then cached
    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("thumb.webp") == 6
    assert admin_client.get(CHANGELIST_URL, {"status__exact": "failed"}).status_code == 200
    assert admin_client.get(CHANGELIST_URL, {"format": "JPEG", "q": "p30"}).status_code == 200


def test_focal_point_change_renders_again(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(SimpleUploadedFile("p.jpg", corpus.jpeg()), filename="p.jpg")
    before = asset.variants.get(spec="thumb").created_at
    url = reverse("admin:media_pipeline_imageasset_change", args=[asset.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"focal_x": "0.1", "focal_y": "0.1"})
    assert response.status_code == 302
    assert asset.variants.get(spec="thumb").created_at > before


def test_bulk_regenerate_runs_as_a_job(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(SimpleUploadedFile("p.jpg", corpus.jpeg()), filename="p.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST_URL, {"action": "regenerate_selected", "_selected_action": [str(asset.pk)]}
        )
    assert response.status_code == 302
    job = Job.objects.get(kind="media_pipeline.regenerate_variants")
    assert (job.status, job.done, job.requested_by_id) == (Job.Status.SUCCEEDED, 1, response.wsgi_request.user.pk)


def test_viewer_cannot_regenerate(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(SimpleUploadedFile("p.jpg", corpus.jpeg()), filename="p.jpg")
    viewer = UserFactory(is_staff=True, perms=["media_pipeline.view_imageasset"])
    client.force_login(viewer)
    page = client.get(CHANGELIST_URL)
    assert page.status_code == 200
    assert "regenerate_selected" not in page.content.decode()
    url = reverse("admin:media_pipeline_imageasset_regenerate_detail", args=[asset.pk])
    assert client.post(url).status_code == 403
    assert not Job.objects.exists()


def test_delete_removes_files(admin_client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(SimpleUploadedFile("p.jpg", corpus.jpeg()), filename="p.jpg")
    assert list(settings.MEDIA_ROOT.glob("**/*.webp"))
    url = reverse("admin:media_pipeline_imageasset_delete", args=[asset.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not ImageAsset.objects.exists()
    assert not [p for p in settings.MEDIA_ROOT.glob("**/*") if p.is_file()]
