"""The HTTP edge: FastAPI app, dependencies, schemas, routes, problem+json handlers."""
