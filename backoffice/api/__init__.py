"""The integration API: DRF wiring shared by every app (integration keys, scopes, throttles, the keyset
paginator, problem+json errors, idempotency, the router and the schema hooks), and a Django app of its own
(label ``api``) for the key and idempotency models.

Each business app adapts its services in its own ``api.py`` (``catalog/api.py``, ``orders/api.py``);
``backoffice/api/urls.py`` composes them under ``/api/v1/``.
"""
