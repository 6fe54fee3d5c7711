"""The ACD's adapters: its AMI feed and wiring, the ``acd-announce`` FastAGI route and the
IVR's voice for it."""
