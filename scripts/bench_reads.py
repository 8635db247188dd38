"""Benchmark every planner- and ERP-facing read at two sizes, side by side.

    python scripts/bench_reads.py [--database-url URL] [--scale 1.0] [--rounds 4]
                                  [--repeat 5] [--reuse] [--keep] [--only NAME,...]

Builds on PostgreSQL (URL: a server and a database to connect to; default the test one) a
small database (10,000 items, 1 M sales lines, 14 nightly runs) and a large one (100,000
items, 10 M sales lines, 365 runs), see scripts/bench_reads_data.py. `--scale` shrinks the
large one (items, lines and runs alike) where building it takes too long; `--reuse` reads a
database a previous `--keep` left (same sizes), `--keep` leaves them for the next time.
The environment variable BENCH_READS_SUFFIX is appended to the databases' names, so two
checkouts can build and keep their own at once.

Then serves one app per database in-process (Flask's test client: the whole request, from
routing to the JSON or HTML body, without a socket) and times each read in alternating
rounds, small then large (A, B, A, B: drift on a shared machine hits both alike). Prints per
read the p50 and p95 and the response size at each size, the large/small ratio of the p95
(for the reads that answer every line of the plan, also per line: the plans differ 10x),
and the targets: p95 < 300 ms at the large size, large/small <= 2x, no answer over 5 MB
unless the read is paged; and the load average before and after.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_reads_data import LARGE, SMALL, Size, build, database_url, exists  # noqa: E402

from returns_inventory import create_app, extensions  # noqa: E402
from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.uow import UnitOfWork  # noqa: E402
from returns_inventory.services import suggestion_alerts  # noqa: E402
from returns_inventory.services.analytics import refresh_returns_reports  # noqa: E402
from returns_inventory.services.quality_alerts import current_alerts  # noqa: E402
from returns_inventory.services.tokens import create_token  # noqa: E402
from returns_inventory.services.users import create_user  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_P95_MS = 300
TARGET_RATIO = 2.0
TARGET_BYTES = 5 * 1024 * 1024
PASSWORD = "bench reads password"


@dataclass(frozen=True)
class Read:
    name: str
    path: str  # may name {suggestion}, {event_cursor}, {next_cursor}
    paged: bool = True  # answers a page (or one thing), not everything
    web: bool = False  # a page for a logged-in planner, not the token-authenticated API
    # The answer holds every approved line of the plan, which is 10x longer at large (4 % of
    # the items): the ratio is also given per line, i.e. divided by the plans' ratio.
    whole_plan: bool = False


READS = (
    Read("suggestions API, first page", "/api/v1/replenishment/suggestions?limit=100"),
    Read("suggestions API, by value", "/api/v1/replenishment/suggestions?sort=-value&limit=100"),
    Read("suggestions API, next page", "{next_page}"),
    Read("suggestions API, location+search",
         "/api/v1/replenishment/suggestions?location=WH-MAIN&search=linen&limit=100"),
    Read("suggestions API, status+supplier",
         "/api/v1/replenishment/suggestions?status=approved&supplier=SUP007&limit=100"),
    Read("one suggestion API", "/api/v1/replenishment/suggestions/{suggestion}"),
    # Pages of the same length at both sizes (the small plan has 400 lines): what one page
    # costs beside a plan ten times longer, like with like. The ERP's default page of 1,000
    # is 400 lines long at small (its whole plan) and 1,000 at large.
    Read("approved orders export JSON, 400 lines", "/api/v1/replenishment/exports?limit=400"),
    Read("approved orders export CSV, 400 lines",
         "/api/v1/replenishment/exports?format=csv&limit=400"),
    Read("approved orders export JSON, 1,000 lines", "/api/v1/replenishment/exports"),
    Read("approved orders export CSV, every line", "/api/v1/replenishment/exports?format=csv",
         paged=False, whole_plan=True),
    Read("event feed, from the start", "/api/v1/events?after=0&limit=100"),
    Read("event feed, mid-history", "/api/v1/events?after={event_cursor}&limit=100"),
    Read("event feed, one rare type", "/api/v1/events?after=0&type=replenishment.approved"
         "&limit=100"),
    Read("runs API", "/api/v1/forecast-runs?limit=25"),
    Read("returns analytics API", "/api/v1/analytics/returns", paged=False),
    Read("returns analytics API, later page", "/api/v1/analytics/returns?after={mid_sku}",
         paged=False),
    Read("returns analytics API, category", "/api/v1/analytics/returns?category=cat7",
         paged=False),
    Read("returns analytics API, one SKU", "/api/v1/analytics/returns?sku={mid_sku}",
         paged=False),
    Read("/planner", "/planner", web=True),
    Read("/planner by value, location+search",
         "/planner?sort=-value&location=WH-MAIN&search=linen", web=True),
    Read("/planner page 20", "/planner?page=20", web=True),
    Read("/planner one suggestion", "/planner/suggestions/{suggestion}", web=True),
    Read("/planner/export.csv", "/planner/export.csv?status=approved", web=True, paged=False,
         whole_plan=True),
    Read("/planner/returns", "/planner/returns", web=True, paged=False),
    Read("/planner/runs", "/planner/runs", web=True),
)


class Reader:
    """One app over one database, with a planner's token and a planner's web session."""

    def __init__(self, size: Size, url: str):
        self.size = size
        settings = Settings.load(env={"RI_INSTANCE_PATH": "/tmp/ri-bench-reads"},
                                 database_url=url, secret_key="bench-reads")
        self.app = create_app(settings)
        self.api = self.app.test_client()
        self.web = self.app.test_client()
        uow_factory = partial(UnitOfWork, self.app.extensions["ri.database"])
        stamp = f"{os.getpid()}-{int(time.time())}"
        token = create_token(uow_factory, name=f"bench-reads-{stamp}", role="planner")
        self.headers = {"Authorization": f"Bearer {token.secret}"}
        create_user(uow_factory, username=f"bench{stamp}", role="planner", password=PASSWORD,
                    display_name="Bench Planner")
        self._log_in(f"bench{stamp}")
        self.values = self._values(url)

    def _log_in(self, username: str) -> None:
        page = self.web.get("/login").get_data(as_text=True)
        marker = 'name="csrf_token" value="'
        csrf = page[page.index(marker) + len(marker):].split('"', 1)[0]
        answer = self.web.post("/login", data={"username": username, "password": PASSWORD,
                                                "csrf_token": csrf})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]

    def _values(self, url: str) -> dict:
        engine = create_engine(url)
        with engine.connect() as conn:
            last_run = conn.scalar(text("SELECT max(id) FROM forecast_runs"))
            suggestion = conn.scalar(text(
                "SELECT id FROM replenishment_suggestions WHERE run_id = :r "
                "AND item_id = (SELECT count(*) / 2 FROM items)"), {"r": last_run})
            cursor = conn.scalar(text("SELECT max(id) / 2 FROM outbox_events"))
            mid_sku = conn.scalar(text(
                "SELECT sku FROM items WHERE id = (SELECT count(*) / 2 FROM items)"))
            self.plan_lines = conn.scalar(text(
                "SELECT count(*) FROM replenishment_suggestions WHERE run_id = :r "
                "AND status = 'approved'"), {"r": last_run})
        engine.dispose()
        first = self.api.get(READS[0].path, headers=self.headers).get_json()
        nxt = first["page"].get("next_cursor")
        next_page = (f"{READS[0].path}&after={nxt}" if nxt
                     else f"{READS[0].path}&offset=100")
        return {"suggestion": suggestion, "event_cursor": cursor, "next_page": next_page,
                "mid_sku": mid_sku}

    def get(self, read: Read) -> tuple[float, int, int]:
        path = read.path.format(**self.values)
        client = self.web if read.web else self.api
        started = time.perf_counter()
        answer = client.get(path, headers=None if read.web else self.headers)
        body = answer.get_data()
        took = time.perf_counter() - started
        return took, len(body), answer.status_code


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--scale", type=float, default=1.0,
                        help="shrink the large database (items, sales lines and runs)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5, help="requests per read per round")
    parser.add_argument("--reuse", action="store_true",
                        help="read the databases a previous --keep left, if there")
    parser.add_argument("--keep", action="store_true", help="leave the databases for --reuse")
    parser.add_argument("--only", default="", help="comma separated words of read names")
    parser.add_argument("--skip", default="", help="comma separated words of read names")
    args = parser.parse_args()
    sizes = (SMALL, LARGE.scaled(args.scale))
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    built = []
    try:
        for size in sizes:
            if args.reuse and exists(admin, size):
                print(f"{size.name}: reusing {size.database}, schema brought to head")
                engine = create_engine(database_url(args.database_url, size))
                migrate.upgrade(engine)  # indexes added since it was built
                engine.dispose()
                continue
            print(f"{size.name}: building {size.database} ({size.items:,} items, "
                  f"{size.sales_lines:,} sales lines, {size.runs} runs)")
            started = time.perf_counter()
            build(admin, size)
            built.append(size)
            print(f"{size.name}: built in {time.perf_counter() - started:.0f} s")
        _measure(args, sizes)
    finally:
        if not args.keep:
            with admin.connect() as conn:
                for size in sizes:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{size.database}" WITH (FORCE)'))
        admin.dispose()


def _measure(args, sizes: tuple[Size, Size]) -> None:
    readers = [Reader(size, database_url(args.database_url, size)) for size in sizes]
    # As a gunicorn worker does once the app is loaded (returns_inventory/gunicorn_config.py):
    # the apps' and libraries' objects out of the collector's reach.
    gc.freeze()
    words = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    skipped = [w.strip().lower() for w in args.skip.split(",") if w.strip()]
    reads = [r for r in READS if (not words or any(w in r.name.lower() for w in words))
             and not any(w in r.name.lower() for w in skipped)]
    load_before = os.getloadavg()
    times: dict[tuple[str, str], list[float]] = {}
    sizes_seen: dict[tuple[str, str], int] = {}
    statuses: dict[tuple[str, str], set[int]] = {}
    refreshed = {}
    if any("returns" in r.name for r in reads):  # as the scheduler's returns-reports job does
        refreshed = {reader.size.name: _refresh_reports(reader) for reader in readers}
    for reader in readers:  # one warm-up request each: caches, first-use imports
        for read in reads:
            reader.get(read)
    for round_no in range(args.rounds):
        print(f"round {round_no + 1} of {args.rounds}; load average {_load(os.getloadavg())}",
              flush=True)
        for read in reads:
            for reader in readers:  # A (small), B (large), alternating
                key = (read.name, reader.size.name)
                for _ in range(args.repeat):
                    took, length, status = reader.get(read)
                    times.setdefault(key, []).append(took)
                    sizes_seen[key] = length
                    statuses.setdefault(key, set()).add(status)
    afresh = {reader.size.name: [_alerts_afresh(reader) for _ in range(2)]
              for reader in readers}
    first_reads = _first_reads(readers) if any("analytics" in r.name for r in reads) else {}
    load_after = os.getloadavg()
    print(f"\nsmall: {sizes[0]}\nlarge: {sizes[1]}")
    print(f"{args.rounds} rounds x {args.repeat} requests per read and size, alternating "
          f"small/large; load average before {_load(load_before)}, after {_load(load_after)}")
    print(f"targets: p95 < {TARGET_P95_MS} ms at large, large/small p95 <= {TARGET_RATIO}x, "
          f"no answer over {TARGET_BYTES // 2**20} MB unless paged\n")
    print("quality alerts computed afresh (a list pays it once per "
          f"{suggestion_alerts.FRESH_SECONDS:.0f} s per process): " + ", ".join(
              f"{name} {1000 * min(t):.0f} ms" for name, t in afresh.items()) + "\n")
    _print_reports(refreshed, first_reads)
    print(f"{'read':40} {'small p50/p95 ms':>17} {'size':>9} {'large p50/p95 ms':>17} "
          f"{'size':>9} {'ratio':>6}  verdict")
    plans = readers[1].plan_lines / readers[0].plan_lines
    for read in reads:
        _report(read, *(times[(read.name, s.name)] for s in sizes),
                *(sizes_seen[(read.name, s.name)] for s in sizes),
                statuses[(read.name, sizes[0].name)] | statuses[(read.name, sizes[1].name)])
        if read.whole_plan:
            a95, b95 = (_percentile(times[(read.name, s.name)], 0.95) for s in sizes)
            lines = f"{readers[0].plan_lines:,} and {readers[1].plan_lines:,}"
            print(f"{'':40} per line of the plans ({lines} approved lines): "
                  f"{b95 / a95 / plans:.2f}x")


def _print_reports(refreshed: dict, first_reads: dict) -> None:
    if refreshed:
        print("returns reports computed and stored by the returns-reports job (default "
              "windows, every category and each): " + ", ".join(
                  f"{name} {t:.1f} s, {n} reports, {stored}" for name, (t, n, stored)
                  in refreshed.items()))
    if first_reads:
        print("returns analytics, the first read of a window with no stored report (status, "
              "ms), beside a stored window's read (ms), ready after (s), computed in (ms):")
        for name, runs in first_reads.items():
            print(f"  {name}: " + "; ".join(
                f"{r['status']} {1000 * r['first']:.0f} ms beside {1000 * r['stored']:.0f} ms"
                f" ({r['first'] / r['stored']:.2f}x), ready after {r['ready']:.1f} s, "
                f"computed in {r['compute_ms']} ms" for r in runs))
        print()


def _alerts_afresh(reader: Reader) -> float:
    """What computing the quality alerts costs: lists pay it once per FRESH_SECONDS."""
    with reader.app.app_context():
        policies = extensions.policies()
        started = time.perf_counter()
        with extensions.uow_factory()() as uow:
            current_alerts(uow, policies, policies.returns.today())
        return time.perf_counter() - started


def _first_reads(readers: list[Reader]) -> dict[str, list[dict]]:
    """The first read of a window with no stored report, twice per size, alternating, each
    paired with a read of a stored window (the API's default) just after it."""
    times: dict[str, list[dict]] = {}
    for attempt in range(2):
        for reader in readers:
            times.setdefault(reader.size.name, []).append(_new_window(reader, attempt))
    return times


def _new_window(reader: Reader, attempt: int) -> dict:
    """A page of the returns analytics whose window has no stored report (a window nobody
    asked for before): its first read (202 when the report takes longer than the policy's
    report_wait_ms, computed in the background; else computed by the read), a stored
    window's read beside it, when the report is ready, and what computing it took."""
    with reader.app.app_context():
        uow_factory = extensions.uow_factory()
        until = extensions.policies().returns.today() - timedelta(days=7 + attempt)
        since = until - timedelta(days=59)
        with uow_factory() as uow:
            uow.stored_reports.drop([
                r["id"] for r in uow.stored_reports.every()
                if (r["since"], r["until"]) == (since, until)])
            uow.connection.execute(text(
                "DELETE FROM returns_reports WHERE since = :s AND until = :u"),
                {"s": since, "u": until})  # and a placeholder a killed run left
            uow.commit()
    read = Read("new window", f"/api/v1/analytics/returns?since={since}&until={until}")
    stored = next(r for r in READS if r.name == "returns analytics API")
    started = time.perf_counter()
    first, _, status = reader.get(read)
    beside, _, stored_status = reader.get(stored)
    assert status in (200, 202) and stored_status == 200, (status, stored_status)
    while reader.get(read)[2] != 200:  # as a client polls after Retry-After
        time.sleep(0.1)
    ready = time.perf_counter() - started
    with reader.app.app_context(), extensions.uow_factory()() as uow:
        took = uow.connection.scalar(text(
            "SELECT compute_ms FROM returns_reports WHERE since = :s AND until = :u "
            "AND family = ''"), {"s": since, "u": until})
    return {"first": first, "status": status, "stored": beside, "ready": ready,
            "compute_ms": took}


def _refresh_reports(reader: Reader) -> tuple[float, int, str]:
    """The scheduler's returns-reports pass from nothing stored: its time, the reports it
    stored and their size on disk."""
    with reader.app.app_context():
        uow_factory = extensions.uow_factory()
        with uow_factory() as uow:
            uow.stored_reports.drop([r["id"] for r in uow.stored_reports.every()])
            uow.commit()
        started = time.perf_counter()
        done = refresh_returns_reports(uow_factory, extensions.policies().returns)
        took = time.perf_counter() - started
        with uow_factory() as uow:
            size = uow.connection.scalar(text(
                "SELECT pg_total_relation_size('returns_report_skus')"
                " + pg_total_relation_size('returns_reports')"))
    return took, done["refreshed"], f"{size / 2**20:.0f} MB stored"


def _report(read: Read, a: list[float], b: list[float], size_a: int, size_b: int,
            codes: set[int]) -> None:
    a95, b95 = 1000 * _percentile(a, 0.95), 1000 * _percentile(b, 0.95)
    misses = []
    if b95 >= TARGET_P95_MS:
        misses.append("p95")
    if b95 / a95 > TARGET_RATIO:
        misses.append("ratio")
    if size_b > TARGET_BYTES and not read.paged:
        misses.append("size")
    if codes != {200}:
        misses.append("status " + ",".join(map(str, sorted(codes))))
    print(f"{read.name:40} {1000 * statistics.median(a):7.1f}/{a95:7.1f}  {_bytes(size_a):>9} "
          f"{1000 * statistics.median(b):7.1f}/{b95:7.1f}  {_bytes(size_b):>9} "
          f"{b95 / a95:5.2f}x  {'ok' if not misses else 'MISS ' + ' '.join(misses)}")


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"


def _load(values) -> str:
    return " ".join(f"{x:.2f}" for x in values)


if __name__ == "__main__":
    main()
