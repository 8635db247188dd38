"""Housekeeping jobs the returns and API need. Each takes a JobContext, returns a summary."""

from __future__ import annotations

from ..services.analytics import refresh_returns_reports as refresh_reports
from ..services.exchanges import release_expired_reservations as release_expired
from ..services.idempotency import purge_keys
from ..services.policies import Policies
from ..services.sessions import LoginLimits
from ..services.sessions import purge_login_records as purge_logins
from ..services.settlement import settle_all
from .context import JobContext


def release_expired_reservations(ctx: JobContext) -> str:
    """Give exchange replacements nobody shipped in time back to available stock."""
    released = release_expired(ctx.uow_factory, now=ctx.now)
    return f"released {released} expired reservation(s)"


def purge_idempotency_keys(ctx: JobContext) -> str:
    """Forget Idempotency-Keys older than the retention the API promises."""
    purged = purge_keys(ctx.uow_factory,
                        older_than_hours=ctx.settings.idempotency_retention_hours)
    return f"purged {purged} idempotency key(s)"


def purge_login_records(ctx: JobContext) -> str:
    """Forget expired web sessions and failed logins that no longer count."""
    purged = purge_logins(ctx.uow_factory, LoginLimits.from_settings(ctx.settings), now=ctx.now)
    return f"purged {purged} expired session(s) and failed login(s)"


def settle_refunds(ctx: JobContext) -> str:
    """Refunds and customer answers for the returns grading judged since the last pass."""
    settled = settle_all(ctx.uow_factory, Policies.from_settings(ctx.settings))
    return f"settled {settled} return(s)" if settled else NOTHING_TO_SETTLE


def refresh_returns_reports(ctx: JobContext) -> str:
    """Bring the stored returns analytics reports up to date with the sales and returns."""
    done = refresh_reports(ctx.uow_factory, Policies.from_settings(ctx.settings).returns,
                           now=ctx.now)
    if not any(done.values()):
        return NO_REPORT_TO_REFRESH
    return (f"refreshed {done['refreshed']} returns report(s) ({done['rewritten']} with "
            f"figures changed), dropped {done['dropped']}")


NO_REPORT_TO_REFRESH = "every returns report up to date"


NOTHING_TO_SETTLE = "no return waiting to settle"
