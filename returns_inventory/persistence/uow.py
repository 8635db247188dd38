"""The unit of work: one database transaction that a service opens, commits once, or abandons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cached_property
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from ..domain.errors import Conflict
from .batch import WriteBatch
from .engine import READ_ONLY
from .outbox_listener import OutboxNotifier, notifier_for
from .repositories.analytics import AnalyticsRepository
from .repositories.bench import BenchRepository
from .repositories.catalogue import CatalogueRepository
from .repositories.claims import ClaimRepository
from .repositories.events import OutboxRepository
from .repositories.idempotency import IdempotencyRepository
from .repositories.imports import ImportRepository
from .repositories.leases import LeaseRepository
from .repositories.login_failures import LoginFailureRepository
from .repositories.planning import PlanningRepository
from .repositories.preferences import PreferenceRepository
from .repositories.quality import QualityRepository
from .repositories.refunds import RefundRepository
from .repositories.returns import ReturnsRepository
from .repositories.runs import RunRepository
from .repositories.stock import StockRepository
from .repositories.stored_reports import StoredReportRepository
from .repositories.suggestions import SuggestionRepository
from .repositories.tokens import TokenRepository
from .repositories.units import UnitRepository
from .repositories.users import UserRepository
from .repositories.webhooks import WebhookRepository

R = TypeVar("R")

# Called after every commit with the events it wrote (type, payload...), possibly none:
# metrics count from them, so no service has to remember to.
COMMIT_LISTENERS: list[Callable[[list[dict]], None]] = []


class Fence(NamedTuple):
    """The idempotency claim that the work in progress answers to."""

    actor: str
    key: str
    token: str


_FENCE: ContextVar[Fence | None] = ContextVar("idempotency_fence", default=None)


def hold_fence(fence: Fence) -> Token:
    """From now on, every unit of work that commits also fences the claim in its transaction
    (see repositories/idempotency.py): if a retry has taken the claim over, it fails with
    Conflict and its work rolls back, so a request's work is applied at most once."""
    return _FENCE.set(fence)


def drop_fence(held: Token) -> None:
    _FENCE.reset(held)


@contextmanager
def fenced(fence: Fence) -> Iterator[None]:
    """hold_fence for the length of a block."""
    held = hold_fence(fence)
    try:
        yield
    finally:
        drop_fence(held)


class Database:
    """Hands out connections with a fresh transaction on the service's engine."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._notifier: OutboxNotifier | None = None

    def events_committed(self) -> None:
        """A transaction that wrote outbox events has committed: on PostgreSQL, wake their
        listeners (the webhook dispatcher) through this process's notifier."""
        if self.engine.dialect.name != "postgresql":
            return  # SQLite's dispatcher polls
        if self._notifier is None:
            self._notifier = notifier_for(self.engine.url.render_as_string(hide_password=False))
        self._notifier.poke()

    def begin(self, *, read_only: bool = False):
        connection = self.engine.connect()
        if read_only:
            return self._reader(connection), None
        return connection, connection.begin()

    def _reader(self, connection: Connection) -> Connection:
        if connection.dialect.name == "sqlite":
            # A plain BEGIN: readers must not queue behind the write lock.
            return connection.execution_options(**{READ_ONLY: True})
        # One statement needs no transaction: autocommit saves the BEGIN and ROLLBACK round
        # trips, which on the token check of every request is most of its cost.
        return connection.execution_options(isolation_level="AUTOCOMMIT")

    def release(self, connection: Connection) -> None:
        connection.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _repository(kind: type[R]) -> cached_property[R]:
    def make(uow: UnitOfWork) -> R:
        return kind(uow.connection)

    return cached_property(make)


class UnitOfWork:
    """`with UnitOfWork(db) as uow: ...; uow.commit()` — leaving the block rolls back.

    `read_only=True` is for a single lookup that writes nothing (the token check): it takes no
    write lock on SQLite and runs without a transaction on PostgreSQL, so it cannot commit.
    """

    def __init__(self, database: Database, *, read_only: bool = False):
        self.database = database
        self.read_only = read_only
        # The writes kept to be sent together, inside `batched()`; None outside it.
        self.batch: WriteBatch | None = None

    def __enter__(self) -> UnitOfWork:
        self.connection, self._transaction = self.database.begin(read_only=self.read_only)
        self.dialect = self.connection.dialect.name
        return self

    # Repositories are made on first use: most units of work (the token check of every
    # request, above all) touch one or two of the sixteen.
    analytics = _repository(AnalyticsRepository)
    stored_reports = _repository(StoredReportRepository)
    preferences = _repository(PreferenceRepository)
    catalogue = _repository(CatalogueRepository)
    claims = _repository(ClaimRepository)
    stock = _repository(StockRepository)
    events = _repository(OutboxRepository)
    tokens = _repository(TokenRepository)
    idempotency = _repository(IdempotencyRepository)
    imports = _repository(ImportRepository)
    leases = _repository(LeaseRepository)
    returns = _repository(ReturnsRepository)
    refunds = _repository(RefundRepository)
    units = _repository(UnitRepository)
    bench = _repository(BenchRepository)
    users = _repository(UserRepository)
    login_failures = _repository(LoginFailureRepository)
    planning = _repository(PlanningRepository)
    quality = _repository(QualityRepository)
    runs = _repository(RunRepository)
    suggestions = _repository(SuggestionRepository)
    webhooks = _repository(WebhookRepository)

    @contextmanager
    def batched(self) -> Iterator[WriteBatch]:
        """Inside, `self.batch` is open: the writers that take it (ledger lines through
        services.ledger, unit saves, grading records) keep their rows in it, and leaving the
        block sends them, one statement each. Balances still change at once: the ledger's
        rules need their figures. A block inside another joins the outer batch; leaving on
        an error sends nothing (the rollback follows)."""
        if self.batch is not None:
            yield self.batch
            return
        self.batch = WriteBatch()
        try:
            yield self.batch
            self.batch.send(self.connection)
        finally:
            self.batch = None

    def commit(self) -> None:
        if self._transaction is None:
            raise RuntimeError("a read-only unit of work has nothing to commit")
        if (fence := _FENCE.get()) is not None and not self.idempotency.fence(**fence._asdict()):
            raise Conflict(
                "a retry of this request with the same Idempotency-Key took it over; "
                "this attempt was not applied"
            )
        # Last before COMMIT: on PostgreSQL writing the events takes the feed's lock (shared),
        # which every feed reader waits for until this transaction ends (events.py), so
        # nothing that could wait on a row lock may run while it is held.
        committed: list[dict] = []
        if "events" in self.__dict__:  # only if anything was announced
            self.events.flush()
            committed = self.events.flushed
        self._transaction.commit()
        if committed:
            self.database.events_committed()
        for listener in COMMIT_LISTENERS:
            listener(committed)

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()

    def __exit__(self, *exc_info) -> None:
        try:
            self.rollback()
        finally:
            self.database.release(self.connection)


class UowFactory(Protocol):
    """What services take to open their transactions: `with uow_factory() as uow: ...`."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...
