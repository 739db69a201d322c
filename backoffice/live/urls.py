from django.urls import path

from backoffice.live import views

app_name = "live"

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read-all/", views.mark_all_read, name="notifications_read_all"),
    # A str, not a uuid converter: a malformed id gets the JSON 404, not the site's HTML one.
    path("notifications/<str:notification_id>/read/", views.mark_read, name="notification_read"),
]
