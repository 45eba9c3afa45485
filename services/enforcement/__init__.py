"""Deadline enforcement: the sweep, notice wording, recipients, the enforcer lease."""
