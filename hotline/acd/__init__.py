"""The ACD's adapters: the ``acd-announce`` FastAGI route and the IVR's voice for it."""
