"""The ACD's adapters: its AMI feed, its AGI announcement route, its wiring."""
