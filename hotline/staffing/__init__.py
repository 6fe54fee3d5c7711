"""Staffing's adapters: the HTTP router (``api``), the ``hotline staffing|forecast|simulate``
commands (``cli``, ``cli_plan``, ``cli_sim``), the hotline calendar read from
``config/hotlines.yaml`` (``calendar``) and the planner built over this installation's
database (``service``). The domain itself is the ``staffing`` package."""
