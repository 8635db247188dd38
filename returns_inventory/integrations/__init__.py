"""Talking to the ERP's systems: sending webhooks over HTTP (no Flask, no SQLAlchemy, no
services: the webhook service calls down into it)."""
