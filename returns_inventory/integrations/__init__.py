"""ERP integrations: bulk import formats and row schemas, and sending webhooks (no Flask, no
SQLAlchemy)."""
