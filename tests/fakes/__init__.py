"""Test helpers shared by several test modules: fakes of ports, clocks and scripted events.
Each is typed against what it stands in for; no test module imports another."""
