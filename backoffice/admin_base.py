"""The base every ModelAdmin of the project inherits."""

from unfold.admin import ModelAdmin


class BaseModelAdmin(ModelAdmin):
    pass
