"""The IVR's adapters: its CLI (``hotline ivr``, ``hotline prompts``, ``hotline call``), the
HTTP webhook caller behind ``ivr.ports.WebhookPort``, and the test call over AMI."""
