"""The REST API (FastAPI): transport only. A route parses, calls one action, serialises."""
