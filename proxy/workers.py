"""Detection off the proxy's event loop: a pool of worker processes, each holding its own detection Engine.

Processes rather than threads, so a 20,000-character prompt being analysed does not hold the GIL against other
users' traffic. Each scan has a time budget for the analysis itself, in proportion to its size (`budget_s` per
`budget_chars` characters, never less than `budget_s`): a 2 MB prompt gets the time it needs rather than failing
closed. Waiting for a worker is bounded apart (`queue_limit_s`), so nobody's prompt is refused only because someone
else's are running. When either runs out, or a worker fails, the decision is `block` with the reason (fail closed).
A worker still busy well past its job's budget is killed and replaced, so a pathological input cannot take a worker
away for good.

Fairness: waiting scans are served client by client - the next free worker goes to the waiting scan whose client
has the fewest scans running (then the longest-waiting) - and one client may hold at most half the general
workers (at least one), so a client sending back-to-back huge prompts leaves the others a worker.

Over 350 lines on purpose: the pool's fairness, recycling (a new policy or roster) and fail-closed paths share the
same few pieces of state, and are easier to check together than split apart.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from detectors.decision import Decision

if TYPE_CHECKING:
    from detectors.roster import RosterKeySource

log = logging.getLogger(__name__)

_READY_TIMEOUT_S = 300.0  # loading spaCy and a large roster on a busy machine can take a while
_LONG_NICE = 10  # CPU priority of the general workers (they carry the long prompts) below the reserved one


class PoolError(RuntimeError):
    """The pool could not start (a bad policy, roster or model); the message says which."""


@dataclass(frozen=True)
class EngineSpec:
    """How each worker builds its Engine: plain paths, so the spec pickles into a spawned process."""

    policy: str | None = None
    roster: str | None = None
    roster_key: RosterKeySource | None = None  # None: as a command would find it (RosterKeySource.of())
    model: str | None = None

    def build(self) -> Any:
        from detectors import Engine, Roster, load_policy
        from detectors.roster import RosterKeySource

        policy = load_policy(self.policy) if self.policy else None
        roster = None
        if self.roster:
            roster = Roster.load(self.roster, (self.roster_key or RosterKeySource.of()).load())
        return Engine(policy=policy, roster=roster, model=self.model)


@dataclass(frozen=True)
class ScanJob:
    """What a worker is asked: the request's texts, whose (tool, profile) and the conversation's placeholders."""

    texts: list[str]
    tool: str | None
    profile: str | None
    placeholders: Any  # detectors.Placeholders, updated by the worker and sent back
    deadline_ms: float


@dataclass
class ScanResult:
    """A worker's answer, and how long the request waited for it in all."""

    decision: Decision
    placeholders: Any = None  # the conversation's Placeholders as updated by the worker; None if it failed
    total_ms: float = 0.0  # queueing + analysis, as the request saw it


def serve_jobs(conn: Connection, build: Callable[[], Any], answer: Callable[[Any, Any], Any], nice: int = 0) -> None:
    """A worker process's main loop (scan and OCR alike): build its state once, then answer each job from the pipe
    with `answer(state, job)` until told to stop (None) or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us in order
    if nice:
        os.nice(nice)
    try:
        state = build()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which exits with the message
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(answer(state, job))


def _serve(conn: Connection, spec: EngineSpec, nice: int = 0) -> None:
    """Scan worker: build the engine once, then answer scan jobs."""
    serve_jobs(conn, spec.build, _scan, nice)


def _scan(engine: Any, job: ScanJob) -> ScanResult:
    try:
        decision = engine.scan(job.texts, tool=job.tool, profile=job.profile, placeholders=job.placeholders,
                               deadline_ms=job.deadline_ms)
        # the findings' positions are for `pupilguard scan` and the evaluation; the proxy needs none of them
        return ScanResult(replace(decision, findings=[]), job.placeholders)
    except Exception as exc:  # noqa: BLE001 - fail closed; the class name only, never the text
        log.error("scan failed in worker", extra={"error": type(exc).__name__})
        return ScanResult(Decision.failed("analysis_error"))


class _Worker:
    """One engine process and the pipe to it. Used by one request at a time (the pool hands it out)."""

    target = staticmethod(_serve)  # the process's main loop: (conn, spec, nice); proxy.ocr runs its own

    def __init__(self, spec: EngineSpec, index: int, hard_limit_s: float) -> None:
        self.spec, self.index, self.hard_limit_s = spec, index, hard_limit_s
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.closing = False
        self.short_only = False
        self.retired = False
        self.nice = 0

    def spawn(self) -> None:
        # one BLAS thread per worker (the child inherits this): the pool already runs a scan per CPU
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        parent, child = multiprocessing.get_context("spawn").Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=self.target, args=(child, self.spec, self.nice), name=f"pupilguard-scan-{self.index}",
            daemon=True)
        self.process.start()
        child.close()
        self.conn = parent

    def wait_ready(self, timeout: float) -> None:
        assert self.conn is not None
        if not self.conn.poll(timeout):
            self.kill()
            raise PoolError(f"detection worker {self.index} did not start within {timeout:.0f} s")
        try:
            status, detail = self.conn.recv()
        except EOFError:
            raise PoolError(f"detection worker {self.index} exited while starting") from None
        if status != "ready":
            self.kill()
            raise PoolError(f"cannot start the detection engine: {detail}")

    async def call(self, job: ScanJob, limit_s: float | None = None) -> ScanResult:
        """Send a job and wait for the answer on the event loop itself (it is told when the pipe is readable):
        no thread in between, so nothing waits for a thread to be woken or to get the GIL."""
        if self.closing:
            raise PoolError("the detection pool is shutting down")
        if self.conn is None or self.process is None or not self.process.is_alive():
            # died while idle (or an earlier restart failed): replace it before the job, not after failing it
            await asyncio.to_thread(self.restart)
        assert self.conn is not None
        conn, loop = self.conn, asyncio.get_running_loop()
        try:
            conn.send(job)
            answered = loop.create_future()
            loop.add_reader(conn.fileno(), lambda: answered.done() or answered.set_result(None))
            try:
                await asyncio.wait_for(answered, max(self.hard_limit_s, limit_s or 0.0))
            finally:
                loop.remove_reader(conn.fileno())
            return conn.recv()
        except (EOFError, OSError, TimeoutError) as exc:
            if isinstance(exc, TimeoutError):
                log.error("detection worker stuck; replacing it", extra={"worker": self.index,
                                                                         "limit_s": self.hard_limit_s})
            if not self.closing:
                await asyncio.to_thread(self.restart)
            raise

    def restart(self) -> None:
        self.kill()
        self.spawn()
        self.wait_ready(_READY_TIMEOUT_S)

    def kill(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        self.process = self.conn = None

    def stop(self) -> None:
        self.closing = True
        if self.conn is not None:
            try:
                self.conn.send(None)
            except OSError:
                pass
        if self.process is not None:
            self.process.join(5)
        self.kill()


@dataclass
class _Waiter:
    client: str
    short: bool
    seq: int
    granted: asyncio.Future


class ScanPool:
    """`await pool.scan(texts, client=..., ...)` from the event loop; the analysis runs in a worker process.

    `size` workers take any prompt; `reserved` more take only short ones (under `short_chars` characters in all),
    so a queue of 20,000-character prompts can never make everyone else wait behind it.
    """

    def __init__(self, spec: EngineSpec, size: int | None = None, *, reserved: int = 1,
                 short_chars: int = 4000, hard_limit_s: float = 30.0, budget_chars: int = 50_000,
                 queue_limit_s: float = 30.0) -> None:
        self.size = max(1, size or os.cpu_count() or 1)
        self.reserved, self.short_chars, self.hard_limit_s = max(0, reserved), short_chars, hard_limit_s
        self.budget_chars, self.queue_limit_s = budget_chars, queue_limit_s
        self.per_client = max(1, self.size // 2)  # general workers one client may hold at once
        self._workers = self._make_workers(spec)
        self._idle: list[_Worker] = list(self._workers)
        self._waiting: list[_Waiter] = []
        self._running: dict[str, int] = {}  # client -> scans on general workers
        self._seq = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.generation = 0  # bumped whenever the engines are replaced (a new policy or roster)

    def _make_workers(self, spec: EngineSpec) -> list[_Worker]:
        workers = [_Worker(spec, i, self.hard_limit_s) for i in range(self.size + self.reserved)]
        for worker in workers[self.size:]:
            worker.short_only = True
        if self.reserved:
            # the general workers carry the long prompts: when CPUs are short, the reserved one (and the proxy's
            # own event loop) come first, so everyone else's short prompts keep moving
            for worker in workers[:self.size]:
                worker.nice = _LONG_NICE
        return workers

    @staticmethod
    def _start_all(workers: list[_Worker]) -> None:
        for worker in workers:
            worker.spawn()
        try:
            for worker in workers:
                worker.wait_ready(_READY_TIMEOUT_S)
        except PoolError:
            for worker in workers:
                worker.stop()
            raise

    def start(self) -> None:
        """Spawn every worker and wait until each has loaded its engine. Raises PoolError with the cause."""
        try:
            self._start_all(self._workers)
        except PoolError:
            self.close()
            raise

    def recycle(self, spec: EngineSpec) -> None:
        """Replace every worker with one built from `spec` (a new policy or roster), without dropping requests.

        Blocking (engines load for seconds): call it from a background thread. The new workers are started first;
        if they cannot start (a bad policy or roster), PoolError is raised and the old ones carry on. Old workers
        finish the scan they are doing, then stop.
        """
        new = self._make_workers(spec)
        self._start_all(new)
        if self._loop is None:
            self._swap(new)
        else:
            self._loop.call_soon_threadsafe(self._swap, new)

    def _swap(self, new: list[_Worker]) -> None:
        self.generation += 1  # what was judged clean under the old engines must be judged again
        old, idle = self._workers, self._idle
        for worker in old:
            worker.retired = True
        self._workers, self._idle = new, list(new)
        for worker in idle:
            threading.Thread(target=worker.stop, daemon=True).start()
        self._dispatch()

    @property
    def healthy(self) -> int:
        """Workers whose process is alive (for /healthz)."""
        return sum(1 for w in self._workers if w.process is not None and w.process.is_alive())

    def _pick(self, waiter: _Waiter) -> _Worker | None:
        # a short prompt takes a reserved worker first, leaving the general ones for long prompts
        for worker in sorted(self._idle, key=lambda w: not w.short_only):
            if worker.short_only and waiter.short:
                return worker
            if not worker.short_only and self._running.get(waiter.client, 0) < self.per_client:
                return worker
        return None

    def _dispatch(self) -> None:
        """Hand free workers to waiting scans: the client with the fewest running first, then the longest waiting."""
        for waiter in sorted(self._waiting, key=lambda w: (self._running.get(w.client, 0), w.seq)):
            if waiter.granted.done():
                continue
            worker = self._pick(waiter)
            if worker is None:
                continue
            self._idle.remove(worker)
            if not worker.short_only:
                self._running[waiter.client] = self._running.get(waiter.client, 0) + 1
            waiter.granted.set_result(worker)
        self._waiting = [w for w in self._waiting if not w.granted.done()]

    async def _acquire(self, short: bool, client: str) -> _Worker:
        assert self._loop is not None
        self._seq += 1
        waiter = _Waiter(client, short, self._seq, self._loop.create_future())
        self._waiting.append(waiter)
        self._dispatch()
        try:
            return await asyncio.shield(waiter.granted)
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                self._release(waiter.granted.result(), client)  # granted as the wait ran out: give it back
            else:
                waiter.granted.cancel()
                self._waiting = [w for w in self._waiting if w is not waiter]
            raise

    def _release(self, worker: _Worker, client: str) -> None:
        if not worker.short_only:
            left = self._running.get(client, 0) - 1
            if left > 0:
                self._running[client] = left
            else:
                self._running.pop(client, None)
        if worker.retired:  # replaced by a recycle while it was busy
            threading.Thread(target=worker.stop, daemon=True).start()
        else:
            self._idle.append(worker)
        self._dispatch()

    async def scan(self, texts: Sequence[str], *, tool: str | None, profile: str | None,
                   placeholders: Any = None, budget_s: float = 5.0, client: str = "") -> ScanResult:
        """`budget_s` is the analysis time of a prompt of up to `budget_chars` characters; `client` (a user or an
        address) is who the pool shares its workers fairly between."""
        loop = asyncio.get_running_loop()
        self._loop = loop  # bound to the proxy's loop on first use
        started = time.perf_counter()

        def elapsed() -> float:
            return (time.perf_counter() - started) * 1000

        chars = sum(len(t) for t in texts)
        budget = budget_s * max(1.0, chars / self.budget_chars)
        try:
            worker = await asyncio.wait_for(self._acquire(chars < self.short_chars, client), self.queue_limit_s)
        except TimeoutError:
            return ScanResult(Decision.failed("analysis_timeout", elapsed()), total_ms=elapsed())

        # the engine gives up on its own at the deadline; the wait below also covers the trip to the worker
        job = ScanJob(list(texts), tool, profile, placeholders, budget * 1000)
        call = loop.create_task(worker.call(job, limit_s=2 * budget))

        # the worker goes back to the pool when it is really free, even if this request stopped waiting
        def release(done: asyncio.Task) -> None:
            if not done.cancelled():
                done.exception()  # seen here: a request that stopped waiting does not read it
            self._release(worker, client)

        call.add_done_callback(release)
        try:
            result = await asyncio.wait_for(asyncio.shield(call), budget)
        except TimeoutError:
            return ScanResult(Decision.failed("analysis_timeout", elapsed()), total_ms=elapsed())
        except Exception as exc:  # noqa: BLE001 - a crashed worker: fail closed
            log.error("detection worker failed", extra={"error": type(exc).__name__})
            return ScanResult(Decision.failed("analysis_error", elapsed()), total_ms=elapsed())
        result.total_ms = elapsed()
        return result

    def close(self) -> None:
        for worker in self._workers:
            worker.closing = True
        for worker in self._workers:
            worker.stop()
