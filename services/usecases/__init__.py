"""Use cases, one module per aggregate: what a person or program asks the service to do."""
