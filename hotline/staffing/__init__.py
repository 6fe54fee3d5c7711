"""Staffing's adapters: the ``hotline staffing|forecast|simulate`` commands (``cli``,
``cli_plan``, ``cli_sim``), the hotline calendar read from ``config/hotlines.yaml``
(``calendar``) and the planner built over this installation's database (``service``). Its HTTP
router is ``hotline.api.staffing``, with the others. The domain itself is the ``staffing``
package."""
