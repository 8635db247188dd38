"""Server-rendered pages for graders and planners (filled by the returns and planner issues)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the page blueprints; none yet."""
