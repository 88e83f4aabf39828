"""Storage: SQLAlchemy Core tables and small synchronous functions, one module per subject."""
