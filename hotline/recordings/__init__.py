"""Recordings in the running system: their wiring (``build``) and ``hotline recordings``
(``cli``). The rules are ``recordings/``; the SQL store is ``hotline.storage.recording_store``;
the HTTP API is ``hotline.api.recordings``."""
