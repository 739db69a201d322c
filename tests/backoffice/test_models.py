import uuid

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from backoffice.models import SoftDeleteModel


@pytest.fixture
def widget_model(transactional_db):
    with isolate_apps("backoffice"):

        class Widget(SoftDeleteModel):
            name = models.CharField(max_length=20)

            class Meta:
                app_label = "backoffice"

        with connection.schema_editor() as editor:
            editor.create_model(Widget)
        yield Widget
        with connection.schema_editor() as editor:
            editor.delete_model(Widget)


def test_base_model_timestamps(widget_model):
    widget = widget_model.objects.create(name="a")
    assert isinstance(widget.pk, uuid.UUID)
    first_update = widget.updated_at
    widget.name = "b"
    widget.save()
    assert widget.updated_at > first_update
    assert widget.created_at <= first_update


def test_soft_delete_hides_and_restore_brings_back(widget_model):
    kept = widget_model.objects.create(name="kept")
    gone = widget_model.objects.create(name="gone")
    gone.soft_delete()
    assert gone.is_deleted
    assert list(widget_model.objects.all()) == [kept]
    assert widget_model.all_objects.count() == 2
    assert list(widget_model.all_objects.deleted()) == [gone]
    gone.restore()
    assert widget_model.objects.count() == 2
    assert not gone.is_deleted


def test_queryset_soft_delete_and_restore(widget_model):
    for name in "abc":
        widget_model.objects.create(name=name)
    assert widget_model.objects.filter(name__in=["a", "b"]).soft_delete() == 2
    assert widget_model.objects.count() == 1
    assert widget_model.all_objects.restore() == 2
    assert widget_model.objects.count() == 3


def test_soft_delete_manager_keeps_the_app_queryset_methods():
    from catalog.models import Product
    from orders.models import Customer

    # The live-rows manager is built from each app's queryset, so its reads chain from it.
    assert hasattr(Product.objects, "low_stock") and hasattr(Product.objects.all(), "search")
    assert hasattr(Customer.objects, "with_order_stats")
    assert Product.objects.all().query.where
    assert not Product.all_objects.all().query.where
