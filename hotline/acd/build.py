"""The ACD as ``hotline serve`` runs it: the service over the dialplan verbs, the one
call-control port and the AMI feed."""

from __future__ import annotations

from acd.dialplan import DialplanPbx
from acd.loader import load_config
from acd.model import AcdConfig
from acd.publisher import Publish
from acd.service import AcdService
from cti.ami.client import AmiClient
from cti.call_control import CallControl
from cti.settings import Settings
from hotline.acd.ami_feed import AmiPbxFeed


def build_acd(
    settings: Settings,
    ami: AmiClient,
    call_control: CallControl,
    *,
    config: AcdConfig | None = None,
    publish: Publish | None = None,
) -> AcdService:
    """The ACD over ``settings.config_dir`` (queues, agents, skills); ``publish`` (e.g.
    ``DomainBus.publish``) receives its domain events."""
    return AcdService(
        config or load_config(settings.config_dir),
        DialplanPbx(call_control, AmiPbxFeed(ami)),
        publish=publish,
        transfer_context=settings.ivr.transfer_context,
    )
