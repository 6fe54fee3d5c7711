"""Historical reports over the call records: queues and agents by interval, day, week, month.

Layers: figures from ``staffing.kpi`` (pure, shared with live statistics and the simulator),
``buckets`` (pure time bucketing), ``queries`` (SQL aggregation per dialect), ``build`` (the
report from both), ``csv_out``; ``service`` (the HTTP API's ``Reports`` port over the
database); adapters ``cli`` (``hotline report …``) and ``hotline.api.reports`` (JSON/CSV over
HTTP).
"""
