"""Storage: SQLAlchemy 2 models, engine and migrations."""
