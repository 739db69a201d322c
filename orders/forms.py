from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminDecimalFieldWidget, UnfoldAdminIntegerFieldWidget, UnfoldAdminTextInputWidget

from catalog.models import Product
from orders.models import Customer, Order, OrderLine

CARRIERS_HELP = _("For example DHL, UPS, DPD, GLS or a courier's name.")


class ShipDialogForm(BaseDialogForm):
    carrier = forms.CharField(
        label=_("Carrier"), max_length=60, help_text=CARRIERS_HELP, widget=UnfoldAdminTextInputWidget
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=80, required=False, widget=UnfoldAdminTextInputWidget
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"), max_length=60, help_text=CARRIERS_HELP, widget=UnfoldAdminTextInputWidget
    )


class UnfoldAutocomplete(AutocompleteSelect):
    """Django's autocomplete select with Unfold's look."""

    def __init__(self, field, admin_site=None, attrs=None):
        super().__init__(field, admin_site or admin.site, attrs={"class": "unfold-admin-autocomplete", **(attrs or {})})


class PlaceOrderForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.all(),
        widget=UnfoldAutocomplete(Order._meta.get_field("customer")),
    )
    discount = forms.DecimalField(
        label=_("Discount"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        widget=UnfoldAdminDecimalFieldWidget,
    )
    shipping = forms.DecimalField(
        label=_("Shipping"),
        min_value=0,
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        widget=UnfoldAdminDecimalFieldWidget,
    )


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.all(),
        widget=UnfoldAutocomplete(OrderLine._meta.get_field("product")),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=100_000, widget=UnfoldAdminIntegerFieldWidget
    )


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        if not [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]:
            raise forms.ValidationError(_("Add at least one line."))


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=3, max_num=200, validate_max=True)
