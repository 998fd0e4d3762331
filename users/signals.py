"""Signals other apps listen to, so this app never imports them.

`pin_changed` and `access_revoked` let the registrations app clear a lockout and end live
hot-desk sessions the moment an administrator acts, not at the next re-registration.
"""

from django.dispatch import Signal

pin_changed = Signal()  # sender=PbxUser, user=..., actor=...
access_revoked = Signal()  # sender=PbxUser, user=..., actor=...
