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

# --- the ACD's holding and connect contexts (asterisk/etc/extensions_acd.conf, acd/) ---------
# Epoch seconds (ms precision) when the caller first entered the ACD hold: its place in line,
# kept across unanswered offers and restarts of Hotline.
HOTLINE_ACD_ENQUEUED = "HOTLINE_ACD_ENQUEUED"
HOTLINE_HOLD_TIMEOUT = "HOTLINE_HOLD_TIMEOUT"  # seconds of hold before the native queue
HOTLINE_AGENT_DEVICE = "HOTLINE_AGENT_DEVICE"  # what hotline-acd-connect dials
HOTLINE_RING_TIMEOUT = "HOTLINE_RING_TIMEOUT"  # seconds
HOTLINE_ACD_AGENT = "HOTLINE_ACD_AGENT"  # the agent the call is offered to
HOTLINE_ACD_DECISION = "HOTLINE_ACD_DECISION"  # routing decision id (traces)
HOTLINE_OVERFLOW_TARGET = "HOTLINE_OVERFLOW_TARGET"  # mailbox or closed-message name
HOTLINE_ACD_AGI = "HOTLINE_ACD_AGI"  # FastAGI base URL the hold loop announces through
HOTLINE_ANNOUNCE_FIRST = "HOTLINE_ANNOUNCE_FIRST"  # seconds on hold before the first visit
HOTLINE_ANNOUNCE_EVERY = "HOTLINE_ANNOUNCE_EVERY"  # seconds between visits; 0 = no more

USER_EVENT_ACD_HOLD = "HotlineAcdHold"  # on hold for the ACD (again after a no-answer)
USER_EVENT_ACD_NO_ANSWER = "HotlineAcdNoAnswer"  # the offer's Dial ended unanswered
USER_EVENT_ACD_TIMEOUT = "HotlineAcdTimeout"  # the bounded hold ran out: native queue next
USER_EVENT_ACD_AGENT_HANGUP = "HotlineAcdAgentHangup"  # the agent ended the call (Dial returned)

# --- during a connected call: hold and transfers (extensions_acd.conf, acd/in_call.py) -------
HOTLINE_ACD_AGENT_CHANNEL = "HOTLINE_ACD_AGENT_CHANNEL"  # on the caller: its agent's channel
HOTLINE_ACD_CALL = "HOTLINE_ACD_CALL"  # on the agent's channel: the caller's call id
HOTLINE_CONSULT_DIAL = "HOTLINE_CONSULT_DIAL"  # on the agent's channel: whom to consult
HOTLINE_CONSULT_CHANNEL = "HOTLINE_CONSULT_CHANNEL"  # on the caller: the consulted channel
HOTLINE_ACD_ANSWERED = "HOTLINE_ACD_ANSWERED"  # on the caller: epoch seconds of the answer
HOTLINE_ONHOLD_MAX = "HOTLINE_ONHOLD_MAX"  # seconds on hold before the caller is put back
USER_EVENT_ACD_CONSULT_ENDED = "HotlineAcdConsultEnded"  # the consultation's Dial returned

# --- call control (cti/call_control.py) ------------------------------------------------------
HOTLINE_PLAY = "HOTLINE_PLAY"  # sounds (joined by &) the hotline-play context plays, then hangs up
