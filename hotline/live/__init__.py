"""Live state for agents, supervisors and wallboards: statistics (pure), the WebSocket hub and
the MQTT publisher. Everything here is fed domain events (``cti.events``); nothing polls the
ACD."""
