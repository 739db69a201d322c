import io

import pytest
from django.core.exceptions import ValidationError

from media_pipeline.services import ingest_image, set_focal_point
from tests.factories import UserFactory
from tests.media_pipeline import corpus

pytestmark = pytest.mark.django_db


def test_set_focal_point_writes_only_the_point_and_renders_again(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        asset = ingest_image(io.BytesIO(corpus.jpeg(400, 300)), filename="a.jpg")
    thumb = asset.variants.get(spec="thumb").file.name
    user = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert set_focal_point(asset, focal_x=0.1, focal_y=0.9, user=user) is True
    asset.refresh_from_db()
    assert (asset.focal_x, asset.focal_y) == (0.1, 0.9)
    assert asset.variants.get(spec="thumb").file.name != thumb
    assert asset.history.get(history_change_reason="Focal point moved").history_user == user
    assert set_focal_point(asset, focal_x=0.1, focal_y=0.9) is False
    with pytest.raises(ValidationError):
        set_focal_point(asset, focal_x=1.5, focal_y=0.5)
