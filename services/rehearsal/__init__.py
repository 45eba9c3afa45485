"""Rehearsal tooling: generated counties, the demo, the simulated campaign year."""
