from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.forms import BaseDialogForm
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from backoffice.fields import StrictIntegerField
from catalog.models import Product, StockMovement, Tag
from catalog.services import ROUNDING_RULES

MANUAL_REASONS = [
    (value, label)
    for value, label in StockMovement.Reason.choices
    if value in (StockMovement.Reason.RECEIPT, StockMovement.Reason.ADJUSTMENT, StockMovement.Reason.RETURN)
]


class StockAdjustmentForm(BaseDialogForm):
    delta = StrictIntegerField(
        label=_("Change"),
        help_text=_("Positive to add units (a receipt), negative to take them away."),
        widget=UnfoldAdminIntegerFieldWidget,
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=MANUAL_REASONS, widget=UnfoldAdminSelectWidget)
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=120,
        help_text=_("Delivery note, stock-take sheet, ticket number..."),
        widget=UnfoldAdminTextInputWidget,
    )

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("Enter a change other than zero."))
        if abs(delta) > 1_000_000:
            raise forms.ValidationError(_("That is more than a million units; check the number."))
        return delta


class PriceChangeForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Change by"),
        choices=[("percent", _("Percentage")), ("amount", _("Fixed amount"))],
        initial="percent",
        widget=UnfoldAdminRadioSelectWidget,
    )
    value = forms.DecimalField(
        label=_("Value"),
        max_digits=10,
        decimal_places=2,
        help_text=_("For example 10 to raise by 10 per cent, or -2.50 to lower by 2.50."),
        widget=UnfoldAdminDecimalFieldWidget,
    )
    rounding = forms.ChoiceField(
        label=_("Round"), choices=list(ROUNDING_RULES.items()), initial="cent", widget=UnfoldAdminSelectWidget
    )

    def job_params(self) -> dict:
        data = self.cleaned_data
        return {"mode": data["mode"], "value": str(data["value"]), "rounding": data["rounding"]}

    def clean(self):
        cleaned = super().clean()
        mode, value = cleaned.get("mode"), cleaned.get("value")
        if value is not None and value == 0:
            self.add_error("value", _("Enter a change other than zero."))
        if mode == "percent" and value is not None and value <= Decimal(-100):
            self.add_error("value", _("A price cannot fall by 100 per cent or more."))
        return cleaned


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.all(), widget=UnfoldAdminSelectMultipleWidget
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ProductAdminForm(forms.ModelForm):
    """The product form, plus photos uploaded through the media pipeline: a refused photo is a
    form error and nothing is saved."""

    user = None  # set per request by the admin
    upload_images = MultipleImageField(
        label=_("Upload images"),
        required=False,
        help_text=_("Select one or more photos; they are added after the images already attached."),
    )

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "slug",
            "status",
            "description",
            "published_at",
            "price",
            "cost",
            "stock",
            "low_stock_threshold",
            "barcode",
            "weight_grams",
            "category",
            "brand",
            "supplier",
            "tags",
            "related",
        ]

    def clean_sku(self):
        from catalog.services import check_sku_available

        sku = self.cleaned_data["sku"]
        if self.instance.deleted_at is not None:
            return sku  # a deleted product holds no SKU; restoring it checks again
        try:
            check_sku_available(sku, exclude_pk=self.instance.pk)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["sku"]) from exc
        return sku

    def clean_upload_images(self):
        # Checked only: nothing is stored until the whole form is valid (see ingest_uploads).
        from media_pipeline.services import check_image

        uploads, errors = self.cleaned_data.get("upload_images") or [], []
        for upload in uploads:
            try:
                check_image(upload)
            except forms.ValidationError as exc:
                errors.append(f"{upload.name}: {' '.join(exc.messages)}")
        if errors:
            raise forms.ValidationError(errors)
        return uploads

    def ingest_uploads(self) -> list:
        """Ingest the checked uploads through the media pipeline (called by the admin when saving)."""
        from media_pipeline.services import ingest_image

        return [
            ingest_image(upload, filename=upload.name, uploaded_by=self.user)
            for upload in self.cleaned_data.get("upload_images") or []
        ]
