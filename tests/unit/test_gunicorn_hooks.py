"""gunicorn's hooks: a worker's long-lived objects are kept out of full collections."""

from __future__ import annotations

import gc

from returns_inventory import gunicorn_config


def test_a_worker_freezes_what_it_loaded_so_full_collections_skip_it():
    kept = [[] for _ in range(1000)]  # tracked objects, standing for the app and its modules
    gc.unfreeze()
    try:
        gunicorn_config.post_worker_init(worker=None)
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()
