"""Help at the bench: the item's picture, when it may be shown, and what defect codes mean."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..persistence.uow import UowFactory
from .policies import Policies


def item_picture(uow_factory: UowFactory, policies: Policies, unit_id: str) -> str | None:
    """The picture of the unit's item, if it is on this site or an allowed https host.

    Anything else is not shown: a picture from any host would tell that host who is grading
    what, and when (the pages' CSP would refuse it anyway).
    """
    with uow_factory() as uow:
        url = uow.bench.image_of_unit(unit_id)
    return url if url and shown_from(url, policies.grading.image_hosts) else None


def shown_from(url: str, allowed_hosts: tuple[str, ...]) -> bool:
    if url.startswith("/") and not url.startswith("//"):
        return True
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "") in allowed_hosts
