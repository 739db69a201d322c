"""Upload a photo through the browser and see its variants, with the CSP in force."""

import pytest
from playwright.sync_api import expect

from media_pipeline.models import ImageAsset
from tests.e2e.conftest import SCREENSHOTS, login
from tests.factories import UserFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.e2e


def test_upload_then_gallery_and_changelist(page, live_server, transactional_db, tmp_path):
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(corpus.exif_rotated_jpeg())
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(corpus.truncated_jpeg())
    login(page, live_server, UserFactory(is_staff=True, is_superuser=True))

    page.goto(f"{live_server.url}/admin/media_pipeline/imageasset/add/")
    page.set_input_files("input[name=upload]", str(broken))
    page.click("button[name=_save]")
    expect(page.get_by_text("The image is damaged or incomplete")).to_be_visible()
    assert not ImageAsset.objects.exists()

    page.set_input_files("input[name=upload]", str(photo))
    page.click("button[name=_save]")
    expect(page.get_by_text("was added successfully")).to_be_visible()
    asset = ImageAsset.objects.get()
    assert asset.status == ImageAsset.Status.READY  # rendered in-process after commit

    page.goto(f"{live_server.url}/admin/media_pipeline/imageasset/{asset.pk}/change/")
    figures = page.locator("figure img")
    expect(figures).to_have_count(1 + asset.variants.count())  # the original and every variant
    # every preview really loaded (served, allowed by the CSP, decodable by the browser)
    figures.last.scroll_into_view_if_needed()
    page.wait_for_function("[...document.querySelectorAll('figure img')].every(i => i.complete && i.naturalWidth > 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "image-gallery.png", full_page=True)

    page.goto(f"{live_server.url}/admin/media_pipeline/imageasset/")
    thumb = page.locator("img[src*='thumb.webp']")
    expect(thumb).to_have_count(1)
    page.screenshot(path=SCREENSHOTS / "image-changelist.png", full_page=True)
    assert not [e for e in page.csp_errors if "Content Security Policy" in e], page.csp_errors
