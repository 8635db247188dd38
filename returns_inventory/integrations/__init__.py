"""ERP integrations: bulk import formats and row schemas (no Flask, no SQLAlchemy)."""
