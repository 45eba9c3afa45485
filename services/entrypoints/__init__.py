"""Entry points: the HTTP API, the web pages, the command line and the scheduler process."""
