"""Use cases, persistence, the HTTP API, the scheduler and the command line."""
