"""ACD: skills, queues, agents, routing and wait estimates (pure core; the service drives it).

Modules: ``model`` (config), ``loader`` (safe YAML), ``agent_state`` (the agent table),
``indexes`` (who can take what), ``routing`` (decisions and traces), ``ewt`` (estimates and
their errors), ``effects`` (inputs and effects), ``engine`` (ties them together).
"""
