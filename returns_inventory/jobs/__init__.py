"""The scheduler process and its jobs: `python -m returns_inventory.jobs`.

Never started inside the web workers: gunicorn runs several of them, and each would run every
job (APScheduler FAQ). Importing this package starts nothing.
"""
