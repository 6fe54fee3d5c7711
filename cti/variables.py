"""Channel variable names and route values shared with the dialplan (asterisk/etc/extensions.conf).

One place for them, so the dialplan and the code cannot drift apart silently.
"""

from __future__ import annotations

HOTLINE_ROUTE = "HOTLINE_ROUTE"  # where the dialplan sends the caller after the IVR
HOTLINE_DID = "HOTLINE_DID"  # the product hotline number dialled (inherited)

ROUTE_HOLD = "hold"  # wait in Asterisk for Hotline's ACD (bounded, then native queue)
ROUTE_HANGUP = "hangup"
ROUTE_FALLBACK = "fallback"  # straight to the native queue
