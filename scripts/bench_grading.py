"""Benchmark grading over HTTP: the real gunicorn server, concurrent graders, then verify-ledger.

    python scripts/bench_grading.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x
        [--units 5000] [--clients 16] [--workers 2] [--threads 8] [--tote 1] [--keep]

For PostgreSQL the URL names a server: a fresh database `ri_bench_grading` is created on it,
and dropped afterwards unless --keep. A SQLite URL is used (and migrated) as given. N returns
with one received unit each are loaded through the services; then `--clients` threads grade
every unit exactly once over loopback HTTP (keep-alive connections), one unit per request or
`--tote` units per request, and the script prints graded units/s, requests/s, latency
percentiles per request and errors, CPU per graded unit, CPU seconds and requests per gunicorn
worker, and runs `returns-inventory verify-ledger`. The server is started as scripts/run starts
it (--preload, its hooks), so both workers are serving before the first client connects, except
that each worker listens on a socket of its own (--reuse-port), so that the kernel spreads the
clients' kept-alive connections over the workers; `--shared-socket` serves as scripts/run does.
The settlement step (the scheduler's settle-refunds job: each judged return's refund and
answer) runs beside it in this process (scripts/grading_settler.py); a round ends when
everything graded is settled, and its CPU counts as the server's.

    python scripts/bench_grading.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x \
        --against-bare [--units 2000] [--rounds 3] [--bare-dir ../shared/bench]

serves the bare grading app (../shared/bench, database `ri_bench_bare`; `--database-prefix P`
names the two P_grading and P_bare) beside the service with
the same gunicorn settings, and grades --units units a round with the same clients in
alternating rounds, service then bare, --rounds times; it prints each round (units/s, p50, p99,
CPU per unit, load average), each pair's ratios, and their medians.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import queue
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bare_grading  # noqa: E402
import bench_gunicorn  # noqa: E402
from grading_settler import Settler  # noqa: E402

from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.tables import sales_lines  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.policies import Policies  # noqa: E402
from returns_inventory.services.receiving import receive_units  # noqa: E402
from returns_inventory.services.returns import ReturnLineRequest, authorize_return  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402

BENCH_DATABASE = "ri_bench_grading"
LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
SKUS = [f"BENCH-{n:03d}" for n in range(40)]
SIZES = ["XS", "S", "M", "L", "XL"]
# --floor: what the same server and clients manage when a request does less than a grade.
FLOOR = {
    "healthz": "/healthz",  # no token, no database: Flask, gunicorn and the client alone
    "unit": "/api/v1/units/{unit_id}",  # the token check and one read of the unit
}
# Mostly restocks, as at a real bench; some repairs and write-offs take the other paths.
GRADES = ["A"] * 6 + ["B"] * 2 + ["C", "D"]


@contextmanager
def bench_database(url: str, keep: bool, name: str = BENCH_DATABASE):
    """A fresh database ``name`` on the given PostgreSQL server, or the SQLite file as given."""
    server = make_url(url)
    if server.get_backend_name() != "postgresql":
        yield url
        return
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load(url: str, units: int) -> list[str]:
    """N one-unit returns, authorized and received through the services; their unit ids."""
    engine = make_engine(url, pool_size=10, max_overflow=0)
    migrate.upgrade(engine)
    uow_factory = partial(UnitOfWork, Database(engine))
    policies = Policies.from_settings(Settings.load(env={}))
    with uow_factory() as uow:
        uow.catalogue.upsert_locations(
            [{"code": "WH1", "name": "Bench warehouse", "type": "warehouse",
              "allow_negative": False}])
        uow.catalogue.upsert_items([
            {"sku": sku, "size": size, "category": "tops", "description": f"{sku} {size}",
             "unit_cost": Decimal("12.00"), "price": Decimal("30.00"), "supplier": "ACME",
             "lead_time_days": 21, "case_pack": 6, "min_order_qty": 12, "gtin": None}
            for sku in SKUS for size in SIZES])
        location_id = uow.catalogue.location_by_code("WH1").id
        item_ids = list(uow.catalogue.all_item_keys().values())
        run = uuid.uuid4().hex[:6]
        orders = [f"BENCH-{run}-{n}" for n in range(units)]
        uow.connection.execute(insert(sales_lines), [
            {"order_ref": order, "line_ref": "1", "item_id": item_ids[n % len(item_ids)],
             "location_id": location_id, "quantity": 1, "unit_price": Decimal("30.00"),
             "channel": "online", "sold_on": date.today() - timedelta(days=3)}
            for n, order in enumerate(orders)])
        uow.commit()

    def one(order: str) -> str:
        view = authorize_return(uow_factory, policies, order_ref=order, actor="bench", lines=[
            ReturnLineRequest(line_ref="1", quantity=1, reason="too_small")])
        [unit] = receive_units(uow_factory, rma=view.rma, location="WH1",
                               lines=[{"line_no": 1, "quantity": 1}], actor="bench")
        return unit.unit_id

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        unit_ids = list(pool.map(one, orders))
    print(f"loaded {units} returns with received units in {time.perf_counter() - started:.1f}s")
    if engine.dialect.name == "postgresql":
        # Fresh statistics and no autovacuum or checkpoint racing the timed phase.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return unit_ids


def cli(env: dict, *args: str) -> str:
    command = [sys.executable, "-c", "from returns_inventory.cli import main; main()", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                            cwd=ROOT, timeout=600)
    if result.returncode != 0:
        sys.exit(f"returns-inventory {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


@contextmanager
def server(env: dict, workers: int, threads: int, log_path: Path, *,
           app: str = "returns_inventory:create_app()", cwd: Path = ROOT,
           ready: str = "/readyz", reuse_port: bool = True):
    """gunicorn serving ``app`` from ``cwd`` as scripts/run serves the service; its base URL,
    pid and the file of its workers' request counts once ``ready`` answers 200. The bare app
    is served by the same settings.

    With ``reuse_port`` each worker listens on a socket of its own (SO_REUSEPORT, one port)
    and the kernel hands each new connection to one of them by its address's hash; on one
    shared socket the worker that wakes first takes the connection, and one worker often took
    most of the 16 kept-alive clients."""
    # scripts/run's hooks (its workers freeze what the preloaded app holds out of the garbage
    # collector's walks), and a count of each worker's requests: for the bare app alike.
    counts = log_path.with_suffix(".counts")
    port = _free_port() if reuse_port else 0
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads),
               "--timeout", "120", "--graceful-timeout", "5", "--no-control-socket", "--preload",
               *(["--reuse-port"] if reuse_port else []),
               "-c", str(ROOT / "scripts" / "bench_gunicorn.py"), app]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env={**env, bench_gunicorn.ENV: str(counts)},
                                   cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        # With reuse_port the master holds no socket, and its log names none.
        base = f"http://127.0.0.1:{port}" if reuse_port else None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                sys.exit(f"gunicorn exited:\n{log_path.read_text()}")
            if base is None and (found := LISTENING.search(log_path.read_text())):
                base = found.group(1)
            if base:
                try:
                    if requests.get(base + ready, timeout=10).status_code == 200:
                        break
                except requests.RequestException:  # workers still booting
                    pass
            time.sleep(0.1)
        else:
            sys.exit(f"the server did not become ready:\n{log_path.read_text()}")
        yield base, process.pid, counts
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _free_port() -> int:
    """A port nothing listens on now (gunicorn binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CpuMeter:
    """CPU seconds spent by the server's processes, the database's backends for the bench
    database, and this client, so a busy machine's figures can still be read per unit."""

    def __init__(self, server_pid: int, database: str, counts: Path | None = None):
        self.server_pid, self.database, self.counts = server_pid, database, counts
        self.start_requests = bench_gunicorn.request_counts(counts) if counts else {}
        # CPU this process spent on the server's behalf (the settlement step beside it).
        self.moved_to_server = 0.0
        self.workers: dict[int, float] = {}
        self.start = self.sample()
        self.start_workers = dict(self.workers)

    def worker_seconds(self) -> list[float]:
        """CPU seconds each gunicorn worker spent since the start: shows how evenly the
        clients' keep-alive connections were spread over the workers."""
        return [round(self.workers[pid] - self.start_workers.get(pid, 0.0), 1)
                for pid in sorted(self.workers)]

    def worker_requests(self) -> list[int]:
        """Requests each worker answered since the start, in worker_seconds' order (by pid)."""
        if not self.counts:
            return []
        now = bench_gunicorn.request_counts(self.counts)
        return [now[pid] - self.start_requests.get(pid, 0) for pid in sorted(now)]

    def sample(self) -> dict[str, float]:
        try:
            import psutil
        except ImportError:
            return {}

        def cpu(processes) -> float:
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    total += times.user + times.system
            return total

        server = psutil.Process(self.server_pid)
        self.workers = {child.pid: cpu([child]) for child in server.children()}
        backends = []
        for process in psutil.process_iter(["name", "cmdline"]):
            command = " ".join(process.info["cmdline"] or [])
            if command.startswith("postgres:") and f" {self.database} " in f"{command} ":
                backends.append(process)
        return {"server": cpu([server, *server.children(recursive=True)]),
                "database": cpu(backends), "client": cpu([psutil.Process()])}

    def per_unit_ms(self, units: int) -> dict[str, float]:
        end = self.sample()
        spent = {k: end[k] - self.start[k] for k in end}
        if spent:
            spent["server"] += self.moved_to_server
            spent["client"] -= self.moved_to_server
        return {k: v * 1000 / max(units, 1) for k, v in spent.items()}


def _request(batch: list[tuple[str, str]], tote: int,
             floor: str | None) -> tuple[str, str, str | None]:
    """Method, path and body of the request that grades ``batch`` (or hits the floor)."""
    if floor:
        return "GET", FLOOR[floor].format(unit_id=batch[0][0]), None
    if tote == 1:
        [(unit_id, grade)] = batch
        return "POST", f"/api/v1/units/{unit_id}/grade", json.dumps({"grade": grade})
    return "POST", "/api/v1/units/grades", json.dumps(
        {"grades": [{"unit_id": unit_id, "grade": grade} for unit_id, grade in batch]})


def _send(connection: http.client.HTTPConnection, method: str, path: str, body: str | None,
          headers: dict[str, str]) -> int | str:
    """The answer's status, or the name of the error that stopped the request."""
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # reconnects on the next request
        return type(exc).__name__


def drive(base: str, token: str, unit_ids: list[str], clients: int, tote: int,
          floor: str | None = None) -> dict:
    """Every unit graded once, by whichever client takes it next; latencies in ms.

    With tote 1 each request grades one unit (POST /api/v1/units/{id}/grade); with tote N
    a request grades N units at once (POST /api/v1/units/grades). With ``floor`` the same
    clients send as many requests to one of FLOOR's paths instead, grading nothing."""
    assert base.startswith("http://127.0.0.1:"), "loopback only"
    work: queue.SimpleQueue = queue.SimpleQueue()
    for start in range(0, len(unit_ids), tote):
        work.put([(unit_id, GRADES[(start + k) % len(GRADES)])
                  for k, unit_id in enumerate(unit_ids[start:start + tote])])
    latencies: list[float] = []
    errors: list[str] = []
    graded = [0]
    lock = threading.Lock()
    host, port = base.removeprefix("http://").split(":")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client() -> None:
        # http.client rather than requests: the load generator shares the two cores with the
        # server and the database, and requests costs several times more CPU per call.
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        mine, failed, done = [], [], 0
        while True:
            try:
                batch = work.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            status = _send(connection, *_request(batch, tote, floor), headers)
            mine.append((time.perf_counter() - started) * 1000)
            if status == 200:
                done += len(batch)
            else:
                failed.append(f"{batch[0][0]}..: {status}")
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)
            graded[0] += done

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    return {"requests": len(latencies), "graded": graded[0],
            "seconds": elapsed, "per_second": graded[0] / elapsed,
            "requests_per_second": len(latencies) / elapsed,
            "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": latencies[-1],
            "errors": errors}


def against_bare(args, server_url: str) -> None:
    """Serve the service and the bare app side by side, with the same gunicorn settings, and
    drive both with the same clients in alternating rounds: service, bare, service, bare..."""
    if make_url(server_url).get_backend_name() != "postgresql":
        sys.exit("--against-bare needs a PostgreSQL URL: the bare app runs on PostgreSQL only")
    folder_of_bare = bare_grading.bare_dir(args.bare_dir)
    total = args.units * args.rounds
    names = _database_names(args)
    with bench_database(server_url, args.keep, names[0]) as url, \
            bench_database(server_url, args.keep, names[1]) as bare_url, \
            tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        unit_ids = load(url, total)
        bare_ids = bare_grading.load_bare(bare_url, folder_of_bare, total)
        env = service_env(url, folder)
        token = cli(env, "token", "create", "--name", "bench-grader", "--role", "grader")
        arms = {"service": (url, token, unit_ids), "bare": (bare_url, bare_grading.BARE_TOKEN,
                                                             bare_ids)}
        settler = Settler(url)
        reuse_port = not args.shared_socket
        with server(env, args.workers, args.threads, Path(folder) / "service.log",
                    reuse_port=reuse_port) as service, \
                server(bare_grading.bare_env(bare_url), args.workers, args.threads,
                       Path(folder) / "bare.log", app=bare_grading.APP, cwd=folder_of_bare,
                       ready="/healthz", reuse_port=reuse_port) as bare:
            _alternate(args, arms, {"service": service, "bare": bare},
                       settlers={"service": settler})
        print(f"  settlement (service): {settler.returns_settled} returns settled, "
              f"{settler.state()}; its CPU {settler.cpu_ms_per_return():.2f} ms a return "
              "(in the server's figures above)")
        settler.close()
        print("  verify-ledger (service): " + cli(env, "verify-ledger"))


def _database_names(args) -> tuple[str, str]:
    """The service's and the bare app's databases: `--database-prefix P` names them P_grading
    and P_bare, so benchmarks sharing a server do not drop each other's."""
    if args.database_prefix:
        return f"{args.database_prefix}_grading", f"{args.database_prefix}_bare"
    return BENCH_DATABASE, bare_grading.BARE_DATABASE


def _alternate(args, arms: dict, bases: dict, settlers: dict | None = None) -> None:
    """Round n of every arm in turn (A, B, A, B...), then each pair's ratios and medians;
    `arms` maps a name to (database URL, token, unit ids), `bases` to (base URL, server pid),
    `settlers` an arm to the settlement step that runs beside its server."""
    rows: list[dict] = []
    for n in range(args.rounds):
        for arm, (arm_url, arm_token, ids) in arms.items():
            base, pid, counts = bases[arm]
            load_average = os.getloadavg()[0]
            meter = CpuMeter(pid, make_url(arm_url).database or "", counts)
            result = settled_drive(
                (settlers or {}).get(arm), meter, base, arm_token,
                ids[n * args.units:(n + 1) * args.units], args.clients, 1)
            cpu = meter.per_unit_ms(result["graded"])
            rows.append({"round": n + 1, "arm": arm, "load": load_average, "cpu": cpu,
                         "spread": meter.worker_seconds() if cpu else [],
                         "requests_by_worker": meter.worker_requests(), **result})
            print(_round_line(rows[-1]), flush=True)
    _print_pairs(rows, reference=list(arms)[1])


def settled_drive(settler: Settler | None, meter: CpuMeter, *drive_args) -> dict:
    """`drive`, with the settlement step beside the server until everything graded is
    settled: the round's time runs to the end of its last pass, and the settler's CPU counts
    as the server's (it runs in this process, so it leaves the client's)."""
    if settler is None:
        return drive(*drive_args)
    started, cpu_before = time.perf_counter(), settler.cpu_seconds
    with settler.beside():
        result = drive(*drive_args)
    result["seconds"] = time.perf_counter() - started
    result["per_second"] = result["graded"] / result["seconds"]
    meter.moved_to_server += settler.cpu_seconds - cpu_before
    return result


def _round_line(row: dict) -> str:
    cpu = row["cpu"]
    return (f"round {row['round']} {row['arm']:>7}: {row['per_second']:.0f} units/s, "
            f"p50 {row['p50']:.1f} p99 {row['p99']:.1f} ms, errors {len(row['errors'])}"
            + (f", CPU ms per unit: server {cpu['server']:.2f} database {cpu['database']:.2f} "
               f"client {cpu['client']:.2f}" if cpu else "")
            + (f", CPU s per worker {'/'.join(map(str, row['spread']))}" if row["spread"] else "")
            + (f", requests per worker {'/'.join(map(str, row['requests_by_worker']))}"
               if row["requests_by_worker"] else "")
            + f", load {row['load']:.2f}"
            + (f" (first errors: {row['errors'][:3]})" if row["errors"] else ""))


def _print_pairs(rows: list[dict], reference: str) -> None:
    """Each round's service figures over the reference's in the same round, then medians."""
    service = [r for r in rows if r["arm"] == "service"]
    bare = [r for r in rows if r["arm"] == reference]
    speed, p99 = [], []
    for s, b in zip(service, bare, strict=True):
        speed.append(s["per_second"] / b["per_second"])
        p99.append(s["p99"] / b["p99"])
        cpu = (f", CPU per unit {_cpu_total(s):.2f} / {_cpu_total(b):.2f} ms"
               if s["cpu"] else "")
        print(f"pair {s['round']}: units/s {s['per_second']:.0f} / {b['per_second']:.0f} = "
              f"{speed[-1]:.2f}x, p99 {s['p99']:.1f} / {b['p99']:.1f} ms = {p99[-1]:.2f}x"
              f"{cpu}, load {s['load']:.2f} / {b['load']:.2f}")
    print(f"median over {len(speed)} pairs: units/s {statistics.median(speed):.2f}x {reference} "
          f"(target >= 0.75), p99 {statistics.median(p99):.2f}x (target <= 1.5); "
          f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def _cpu_total(row: dict) -> float:
    return sum(row["cpu"].values())


def service_env(url: str, folder: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RI_")}
    env.update(RI_DATABASE_URL=url, RI_INSTANCE_PATH=str(Path(folder) / "instance"),
               RI_SECRET_KEY=uuid.uuid4().hex, RI_LOG_LEVEL="WARNING")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn worker processes (scripts/run's default)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per gunicorn worker (scripts/run's default)")
    parser.add_argument("--shared-socket", action="store_true",
                        help="every worker accepts from one listening socket (gunicorn's "
                        "default) instead of a socket each (--reuse-port)")
    parser.add_argument("--tote", type=int, default=1,
                        help="units per request: 1 grades one at a time, N uses /units/grades")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--floor", choices=sorted(FLOOR), action="append", default=[],
                        help="first drive as many requests to this lighter path (healthz: no "
                        "token, no database; unit: token check and one read), to show what "
                        "the stack itself costs on this machine; may be repeated")
    parser.add_argument("--against-bare", action="store_true",
                        help="serve the bare app (../shared/bench) beside the service and "
                        "alternate rounds of --units grades, service then bare, printing both "
                        "and their ratio (PostgreSQL only)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --against-bare: pairs of rounds")
    parser.add_argument("--bare-dir", help="where bare_grading_app.py is (default "
                        "../shared/bench beside the checkout)")
    parser.add_argument("--database-prefix", help="name the scratch databases PREFIX_grading "
                        f"and PREFIX_bare instead of {BENCH_DATABASE} and "
                        f"{bare_grading.BARE_DATABASE} (PostgreSQL)")
    args = parser.parse_args()
    if args.against_bare:
        against_bare(args, args.database_url)
        return

    with bench_database(args.database_url, args.keep, _database_names(args)[0]) as url, \
            tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        unit_ids = load(url, args.units)
        env = service_env(url, folder)
        token = cli(env, "token", "create", "--name", "bench-grader", "--role", "grader")
        log_path = Path(folder) / "gunicorn.log"
        settler = Settler(url)
        with server(env, args.workers, args.threads, log_path,
                    reuse_port=not args.shared_socket) as (base, pid, counts):
            load_before = os.getloadavg()[0]
            for path in args.floor:
                meter = CpuMeter(pid, make_url(url).database or "", counts)
                floor = drive(base, token, unit_ids, args.clients, 1, floor=path)
                cpu = meter.per_unit_ms(floor["requests"])
                print(f"floor {FLOOR[path]}: {floor['requests_per_second']:.0f} requests/s, "
                      f"p50 {floor['p50']:.1f}  p99 {floor['p99']:.1f} ms, "
                      f"errors {len(floor['errors'])}" + (
                          "; CPU ms per request: " + ", ".join(
                              f"{k} {v:.2f}" for k, v in cpu.items()) if cpu else ""))
            meter = CpuMeter(pid, make_url(url).database or "", counts)
            result = settled_drive(settler, meter, base, token, unit_ids, args.clients,
                                   args.tote)
            cpu = meter.per_unit_ms(result["graded"])
            spread = meter.worker_seconds() if cpu else []
            requests_by_worker = meter.worker_requests()
        print(f"graded {result['graded']} of {len(unit_ids)} units in {result['requests']} "
              f"requests of {args.tote} unit(s) in {result['seconds']:.2f}s with "
              f"{args.clients} clients, {args.workers} workers x {args.threads} threads on "
              f"{make_url(url).get_backend_name()}")
        print(f"  {result['per_second']:.0f} graded units/s, "
              f"{result['requests_per_second']:.0f} requests/s")
        print(f"  latency ms per request: p50 {result['p50']:.1f}  p95 {result['p95']:.1f}  "
              f"p99 {result['p99']:.1f}  max {result['max']:.1f}")
        print(f"  errors: {len(result['errors'])}" +
              (f" (first: {result['errors'][:3]})" if result["errors"] else ""))
        if cpu:
            print("  CPU ms per graded unit: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
                  + f"  (1-min load average before the run: {load_before:.1f} "
                  f"on {os.cpu_count()} CPUs)")
            print("  CPU seconds per gunicorn worker: " + ", ".join(map(str, spread)))
        print("  requests per gunicorn worker: " + ", ".join(map(str, requests_by_worker)))
        print(f"  settlement: {settler.returns_settled} returns settled, {settler.state()}; "
              f"its CPU {settler.cpu_ms_per_return():.2f} ms a return (in the server's above)")
        settler.close()
        print("  verify-ledger: " + cli(env, "verify-ledger"))


if __name__ == "__main__":
    main()
