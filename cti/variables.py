"""Channel variable names and route values shared with the dialplan (asterisk/etc/extensions.conf).

One place for them, so the dialplan and the code cannot drift apart silently.
"""

from __future__ import annotations

HOTLINE_ROUTE = "HOTLINE_ROUTE"  # where the dialplan sends the caller after the IVR
HOTLINE_DID = "HOTLINE_DID"  # the product hotline number dialled (inherited)

ROUTE_HOLD = "hold"  # wait in Asterisk for Hotline's ACD (bounded, then native queue)
ROUTE_HANGUP = "hangup"
ROUTE_FALLBACK = "fallback"  # straight to the native queue
ROUTE_TRANSFER = "transfer"  # dial HOTLINE_TRANSFER_TARGET in HOTLINE_TRANSFER_CONTEXT

# Written by the IVR runner when the caller leaves the IVR (what the ACD and reports read).
HOTLINE_QUEUE = "HOTLINE_QUEUE"
HOTLINE_SKILLS = "HOTLINE_SKILLS"  # "skill:level,skill:level" (language skills included)
HOTLINE_PRIORITY = "HOTLINE_PRIORITY"
HOTLINE_LANGUAGE = "HOTLINE_LANGUAGE"  # the caller's language (zh, en)
HOTLINE_IVR_DATA = "HOTLINE_IVR_DATA"  # IVR variables, URL-encoded, sensitive ones masked
HOTLINE_IVR_PATH = "HOTLINE_IVR_PATH"  # node ids visited, space separated
HOTLINE_IVR_OUTCOME = "HOTLINE_IVR_OUTCOME"  # queue, transfer, hangup, closed
HOTLINE_IVR_VERSION = "HOTLINE_IVR_VERSION"  # version of the configuration the call used
HOTLINE_TRANSFER_TARGET = "HOTLINE_TRANSFER_TARGET"
HOTLINE_TRANSFER_TYPE = "HOTLINE_TRANSFER_TYPE"  # number or extension
HOTLINE_TRANSFER_CONTEXT = "HOTLINE_TRANSFER_CONTEXT"
# Read by the runner at call start: a preset caller language (set by a trunk, a CRM lookup in
# the dialplan, or ``hotline call --lang``). Language menus still ask.
HOTLINE_CALLER_LANGUAGE = "HOTLINE_CALLER_LANGUAGE"

# AMI UserEvent the runner raises when the caller leaves the IVR (no sensitive values).
USER_EVENT_IVR_DONE = "HotlineIvr"
