"""The ACD as ``hotline serve`` runs it: the service over the dialplan verbs, the one
call-control port and the AMI feed."""

from __future__ import annotations

from acd.dialplan import DialplanPbx
from acd.loader import load_config
from acd.model import AcdConfig
from acd.publisher import Publish
from acd.service import AcdService
from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from cti.call_control import CallControl
from cti.settings import Settings
from hotline.acd.ami_feed import AGENT_FAMILY, AmiPbxFeed


def ami_acd_pbx(
    ami: AmiClient, call_control: CallControl | None = None, *, agent_family: str = AGENT_FAMILY
) -> DialplanPbx:
    """The ACD's verbs on the PBX over AMI: call control (the shared one, or its own) for
    actions, the AMI feed for events, saved agents (under ``agent_family``) and devices."""
    control = call_control if call_control is not None else AmiCallControl(ami)
    return DialplanPbx(control, AmiPbxFeed(ami, agent_family=agent_family))


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
        ami_acd_pbx(ami, call_control),
        publish=publish,
        transfer_context=settings.ivr.transfer_context,
    )
