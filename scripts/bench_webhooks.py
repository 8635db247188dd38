#!/usr/bin/env python3
"""Webhook delivery against a local receiver: deliveries/s, and the lag at a steady event rate.

    scripts/bench_webhooks.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_x

Give it a fresh, empty database (it is migrated here). The receiver runs in a process of its
own on loopback and answers 204 at once, keeping connections alive.

Throughput: while the dispatcher runs as in the scheduler, N events for E endpoints commit
at once; the round lasts until the receiver has every delivery (fan-out, claims, concurrent
sends, records). Rounds alternate with the reference: the same number of signed POSTs over
kept-alive connections with the same concurrency, without the database (A, B, A, B ...).
Lag: the dispatcher runs as in the scheduler (woken by NOTIFY) while events commit at --rate
per second; each event's lag is from its commit to the receiver's answer.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from returns_inventory.integrations.webhook_http import AddressPolicy, KeptConnection  # noqa: E402
from returns_inventory.jobs.dispatcher import Dispatcher  # noqa: E402
from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.tables import outbox_events  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.webhook_dispatch import Concurrency  # noqa: E402
from returns_inventory.services.webhooks import (  # noqa: E402
    register_webhook,
    sign,
)
from returns_inventory.settings import Settings  # noqa: E402

LOOPBACK = AddressPolicy(("127.0.0.1",))


def receiver(port_out, stop) -> None:
    """Answers POSTs 204 and notes when each event arrived (at its last endpoint); GET /stats
    hands the notes over."""
    arrived: dict[int, float] = {}
    count = [0]  # POSTs since the last GET /stats

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            arrived[json.loads(body)["event_id"]] = time.time()
            count[0] += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            if self.path == "/count":
                data = str(count[0]).encode()
            else:
                data = json.dumps(arrived).encode()
                arrived.clear()
                count[0] = 0
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop.wait()
    server.shutdown()


def received(base: str) -> int:
    with urllib.request.urlopen(base + "/count") as answer:
        return int(answer.read())


def arrivals(base: str) -> dict[int, float]:
    with urllib.request.urlopen(base + "/stats") as answer:
        return {int(k): v for k, v in json.loads(answer.read()).items()}


def commit_events(uow_factory, n: int) -> None:
    with uow_factory() as uow:
        for i in range(n):
            uow.events.add("stock.adjusted", {"sku": "BENCH", "quantity": i}, actor="bench")
        uow.commit()


def dispatched(uow_factory, base: str, n_events: int, endpoints: int) -> float:
    """Commit the events while the dispatcher runs (woken by their NOTIFY); time from the
    commit until the receiver has had every delivery."""
    arrivals(base)
    commit_events(uow_factory, n_events)
    started = time.perf_counter()
    while received(base) < n_events * endpoints:
        time.sleep(0.02)
    return n_events * endpoints / (time.perf_counter() - started)


def bare(urls: list[str], n_events: int, concurrency: Concurrency) -> float:
    """The same signed POSTs over kept-alive connections with the same concurrency, no DB."""
    lanes = [(url, lane) for url in urls for lane in range(concurrency.per_endpoint)]
    per_lane = n_events // concurrency.per_endpoint

    def run(job) -> int:
        url, lane = job
        connection = KeptConnection(url, LOOPBACK)
        for i in range(per_lane):
            body = json.dumps({"event_id": -(lane * per_lane + i + 1), "type": "stock.adjusted",
                               "payload": {"sku": "BENCH"}}).encode()
            stamp = str(int(time.time()))
            answer = connection.post(body, {"Content-Type": "application/json",
                                            "X-RI-Timestamp": stamp,
                                            "X-RI-Signature": sign("s" * 32, stamp, body)}, 10)
            assert answer.ok, answer
        connection.close()
        return per_lane

    started = time.perf_counter()
    with ThreadPoolExecutor(min(concurrency.overall, len(lanes))) as pool:
        sent = sum(pool.map(run, lanes))
    return sent / (time.perf_counter() - started)


def lag_run(settings, uow_factory, base: str, rate: int, seconds: int) -> list[float]:
    """Events committed at `rate` a second while the dispatcher runs; their lags in seconds."""
    arrivals(base)  # forget earlier rounds
    with uow_factory() as uow:
        first_id = uow.connection.scalar(select(func.max(outbox_events.c.id))) or 0
    dispatcher = Dispatcher(settings, uow_factory).start()
    try:
        dispatcher.idle.wait(30)
        start = time.perf_counter()
        for i in range(rate * seconds):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            with uow_factory() as uow:
                uow.events.add("stock.adjusted", {"sku": "LAG", "n": i}, actor="bench")
                uow.commit()
        time.sleep(3)
    finally:
        dispatcher.stop()
    with uow_factory() as uow:
        created = dict(uow.connection.execute(
            select(outbox_events.c.id, outbox_events.c.created_at)
            .where(outbox_events.c.id > first_id)).all())
    got = arrivals(base)
    lags = []
    for event_id, at in created.items():
        at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if event_id in got:
            lags.append(got[event_id] - at.timestamp())
    missing = len(created) - len(lags)
    if missing:
        print(f"  {missing} of {len(created)} events not delivered within 3 s of the last")
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=2000, help="per round")
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="of each, alternating")
    parser.add_argument("--rate", type=int, default=100, help="events/s in the lag run")
    parser.add_argument("--seconds", type=int, default=30, help="length of the lag run")
    args = parser.parse_args()

    stop = multiprocessing.Event()
    ports = multiprocessing.Queue()
    process = multiprocessing.Process(target=receiver, args=(ports, stop), daemon=True)
    process.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"

    engine = make_engine(args.database_url)
    migrate.upgrade(engine)
    database = Database(engine)
    uow_factory = partial(UnitOfWork, database)
    settings = Settings.load(database_url=args.database_url,
                             webhook_allowed_internal_hosts=("127.0.0.1",))
    urls = [f"{base}/erp{i}" for i in range(args.endpoints)]
    for url in urls:
        register_webhook(uow_factory, url=url, actor="bench", addresses=LOOPBACK)
    concurrency = Concurrency.from_settings(settings)
    print(f"{args.endpoints} endpoints x {args.events} events a round; dispatcher "
          f"{concurrency.overall} sends at once, {concurrency.per_endpoint} per endpoint, "
          f"batches of {concurrency.batch_size}; {os.cpu_count()} CPUs")
    dispatcher = Dispatcher(settings, uow_factory).start()
    dispatcher.idle.wait(30)
    ours, refs = [], []
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        ours.append(dispatched(uow_factory, base, args.events, args.endpoints))
        print(f"round {r + 1} A dispatcher  {ours[-1]:8,.0f} deliveries/s  (load {load:.2f})")
        load = os.getloadavg()[0]
        refs.append(bare(urls, args.events, concurrency))
        print(f"round {r + 1} B bare POSTs  {refs[-1]:8,.0f} requests/s    (load {load:.2f})")
    dispatcher.stop()
    ratios = [a / b for a, b in zip(ours, refs, strict=True)]
    print(f"throughput     dispatcher {min(ours):,.0f}-{max(ours):,.0f} deliveries/s, bare "
          f"{min(refs):,.0f}-{max(refs):,.0f}/s, ratio {min(ratios):.2f}-{max(ratios):.2f}; "
          f"target >= 500/s: {'met' if min(ours) >= 500 else 'NOT met'}")
    load = os.getloadavg()
    lags = sorted(lag_run(settings, uow_factory, base, args.rate, args.seconds))
    p50 = statistics.median(lags)
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    print(f"lag            {len(lags)} events at {args.rate}/s to {args.endpoints} endpoints "
          f"(one delivery each per endpoint): commit to answer p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms; target p99 < 2 s: "
          f"{'met' if p99 < 2 else 'NOT met'}")
    print(f"load average   {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, at the lag "
          f"run's start); {os.getloadavg()[0]:.2f} at the end")
    stop.set()
    process.join(10)
    engine.dispose()


if __name__ == "__main__":
    main()
