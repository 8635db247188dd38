"""The service with group commit switched off, for bench_grading --against-alone only.

Every one-unit grade runs `grade_unit` in a transaction of its own, as it would without
services/grading_group.py; everything else is the service as shipped. Served by gunicorn as
`grading_alone_app:create_app()` from this folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from returns_inventory import create_app as create_service  # noqa: E402
from returns_inventory.services.grading import grade_unit  # noqa: E402


class GradingAlone:
    """Stands where GradingGroups stands (app.extensions["ri.grading_groups"])."""

    def __init__(self, uow_factory, policies):
        self._uow_factory, self._policies = uow_factory, policies

    def grade(self, **grade):
        return grade_unit(self._uow_factory, self._policies, **grade)


def create_app():
    from returns_inventory.extensions import policies, uow_factory

    app = create_service()
    with app.app_context():
        app.extensions["ri.grading_groups"] = GradingAlone(uow_factory(), policies())
    return app
