"""Returns analytics reports stored whole (report_tables.py): find one, page through its SKUs
by position, rank them for the heat map, replace one, and list the ones to refresh."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ...domain.errors import Conflict
from ..report_tables import returns_report_skus, returns_reports
from .base import Repository

SKUS = returns_report_skus
# The stamp of a placeholder: a report claimed by a read and being computed in the background
# (services/report_requests.py); it has no SKU rows and is never served.
COMPUTING = "computing"


class StoredReportRepository(Repository):
    def find(self, since: date, until: date, family: str, policy_key: str) -> dict | None:
        """The stored report of that window, family and policy: id, stamp, computed_at,
        compute_ms, header (decoded)."""
        row = self.connection.execute(
            select(returns_reports.c.id, returns_reports.c.stamp, returns_reports.c.computed_at,
                   returns_reports.c.compute_ms, returns_reports.c.header)
            .where(returns_reports.c.since == since, returns_reports.c.until == until,
                   returns_reports.c.family == family,
                   returns_reports.c.policy_key == policy_key)).one_or_none()
        if row is None:
            return None
        return {"id": row.id, "stamp": row.stamp, "computed_at": row.computed_at,
                "compute_ms": row.compute_ms, "header": json.loads(row.header)}

    def replace(self, since: date, until: date, family: str, policy_key: str, *, stamp: str,
                computed_at: datetime, compute_ms: int, header: dict,
                skus: list[tuple[str, int, str]]) -> int:
        """Store a report in place of the one of the same key (its SKU rows go with it):
        `skus` are (sku, heat_rank, body as JSON) in SKU order."""
        old = self.connection.scalars(select(returns_reports.c.id).where(
            returns_reports.c.since == since, returns_reports.c.until == until,
            returns_reports.c.family == family, returns_reports.c.policy_key == policy_key))
        self.drop(list(old))
        try:
            report_id = self.connection.execute(insert(returns_reports).values(
                since=since, until=until, family=family, policy_key=policy_key, stamp=stamp,
                computed_at=computed_at, compute_ms=compute_ms,
                header=json.dumps(header, separators=(",", ":")))
                .returning(returns_reports.c.id)).scalar_one()
        except IntegrityError:
            raise Conflict("another process stored this report first") from None
        rows = [(report_id, i, sku, rank, body) for i, (sku, rank, body) in enumerate(skus)]
        if self.is_postgres:  # COPY: a report of 100,000 items is 20,000 rows of JSON
            cursor = self.connection.connection.cursor()
            with cursor.copy("COPY returns_report_skus (report_id, position, sku, heat_rank, "
                             "body) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            names = ("report_id", "position", "sku", "heat_rank", "body")
            for start in range(0, len(rows), 5000):
                self.connection.execute(insert(SKUS), [dict(zip(names, row, strict=True))
                                                       for row in rows[start:start + 5000]])
        return report_id

    def claim(self, since: date, until: date, family: str, policy_key: str, *,
              computed_at: datetime) -> None:
        """Store a placeholder under the report's key; Conflict if that key is taken (another
        read claimed it, or the report is stored)."""
        try:
            self.connection.execute(insert(returns_reports).values(
                since=since, until=until, family=family, policy_key=policy_key,
                stamp=COMPUTING, computed_at=computed_at, compute_ms=0, header="{}"))
        except IntegrityError:
            raise Conflict("this report is claimed or stored already") from None

    def take_over_claim(self, since: date, until: date, family: str, policy_key: str, *,
                        claimed_before: datetime, computed_at: datetime) -> bool:
        """Take over a placeholder claimed before `claimed_before` (its computation died
        with its process): True if this transaction now holds it."""
        r = returns_reports.c
        done = self.connection.execute(returns_reports.update().where(
            r.since == since, r.until == until, r.family == family, r.policy_key == policy_key,
            r.stamp == COMPUTING, r.computed_at < claimed_before).values(
            computed_at=computed_at))
        return done.rowcount == 1

    def drop_claim(self, since: date, until: date, family: str, policy_key: str) -> None:
        r = returns_reports.c
        self.connection.execute(delete(returns_reports).where(
            r.since == since, r.until == until, r.family == family, r.policy_key == policy_key,
            r.stamp == COMPUTING))

    def longest_compute_ms(self) -> int:
        """The longest any stored report of every category took to compute (0: none)."""
        r = returns_reports.c
        return int(self.connection.scalar(select(func.coalesce(func.max(r.compute_ms), 0))
                                          .where(r.family == "", r.stamp != COMPUTING)))

    def page(self, report_id: int, after: str | None, limit: int) -> list[tuple[str, dict]]:
        """Up to `limit` SKUs (sku, body) in SKU order, the first after `after` (in code
        point order, as the report sorts them) first."""
        start = 0
        if after is not None:
            # Positions follow the SKUs' code point order; compared bytewise so PostgreSQL's
            # collation cannot order them otherwise.
            sku = SKUS.c.sku.collate("C") if self.is_postgres else SKUS.c.sku
            first = self.connection.scalar(
                select(SKUS.c.position).where(SKUS.c.report_id == report_id, sku > after)
                .order_by(SKUS.c.position).limit(1))
            if first is None:
                return []
            start = first
        return self._bodies(select(SKUS.c.sku, SKUS.c.body).where(
            SKUS.c.report_id == report_id, SKUS.c.position >= start)
            .order_by(SKUS.c.position).limit(limit))

    def one(self, report_id: int, sku: str) -> list[tuple[str, dict]]:
        return self._bodies(select(SKUS.c.sku, SKUS.c.body).where(
            SKUS.c.report_id == report_id, SKUS.c.sku == sku))

    def ranked(self, report_id: int, most: int) -> list[tuple[str, dict]]:
        """The first `most` SKUs of the heat map's order."""
        return self._bodies(select(SKUS.c.sku, SKUS.c.body).where(
            SKUS.c.report_id == report_id).order_by(SKUS.c.heat_rank).limit(most))

    def every(self) -> list[dict]:
        """Every stored report's key and stamp (placeholders aside): since, until, family,
        policy_key, stamp,
        computed_at, digest (of its figures, in its header), categories (those it counted;
        None in a header stored before it said)."""
        r = returns_reports.c
        return [{**row._mapping, **_kept(json.loads(row.header))}
                for row in self.connection.execute(
                    select(r.id, r.since, r.until, r.family, r.policy_key, r.stamp,
                           r.computed_at, r.header).where(r.stamp != COMPUTING).order_by(r.id))]

    def touch(self, report_id: int, *, stamp: str, computed_at: datetime,
              compute_ms: int) -> None:
        """A report computed again with the same figures: only its stamp and time change."""
        self.connection.execute(returns_reports.update().where(
            returns_reports.c.id == report_id).values(
            stamp=stamp, computed_at=computed_at, compute_ms=compute_ms))

    def drop(self, report_ids: list[int]) -> None:
        if report_ids:
            self.connection.execute(delete(SKUS).where(SKUS.c.report_id.in_(report_ids)))
            self.connection.execute(delete(returns_reports).where(
                returns_reports.c.id.in_(report_ids)))

    def count(self) -> int:
        return int(self.connection.scalar(select(func.count()).select_from(returns_reports)))

    def _bodies(self, query) -> list[tuple[str, dict]]:
        return [(row[0], json.loads(row[1])) for row in self.connection.execute(query)]


def _kept(header: dict) -> dict:
    return {"digest": header.get("digest"), "categories": header.get("categories")}
