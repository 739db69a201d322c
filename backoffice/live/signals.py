from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from backoffice.live import CLOSE
from backoffice.live.groups import session_tag, user_group
from backoffice.live.publisher import send


@receiver(user_logged_out, dispatch_uid="live_close_sockets_on_logout")
def close_sockets_on_logout(sender, request, user, **kwargs):
    """The sockets of the session that logged out close; the person's other sessions keep theirs."""
    if user is None or request is None:
        return
    send(user_group(user.pk), {"type": CLOSE, "session": session_tag(request.session.session_key)})
