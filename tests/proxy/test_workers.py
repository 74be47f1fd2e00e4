"""Detection off the event loop: the worker pool with the real detection engine.

The pool runs its workers as processes that each load the engine, so those tests are `e2e`; the conversation
map at the end is plain code."""
from __future__ import annotations

import asyncio
import time

import pytest

from detectors import Placeholders
from proxy.workers import EngineSpec, PoolError, ScanPool

UPN = "T801200115100"
EMAIL = "jo.bloggs@example.com"
# ~20,000 characters of ordinary school prose with one identifier at the end
LONG = ("The Year 9 class studied the causes of the First World War, compared sources and wrote an essay. " * 205
        + f"Please email {EMAIL}.")


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def pool():
    pool = ScanPool(EngineSpec(), size=2, hard_limit_s=60)
    pool.start()
    yield pool
    pool.close()


@pytest.mark.e2e
def test_scan_redacts_and_keeps_placeholders_across_calls(pool, loop):
    first = loop.run_until_complete(pool.scan([f"Report for UPN {UPN}."], tool="openai-api", profile="staff",
                                              placeholders=Placeholders()))
    assert first.decision.action == "redact" and first.decision.texts == ["Report for UPN [UPN_1]."]
    # the updated map comes back from the worker process and is used for the next prompt
    again = loop.run_until_complete(pool.scan([f"Email {EMAIL} about UPN {UPN}."], tool="openai-api",
                                              profile="staff", placeholders=first.placeholders))
    assert again.decision.texts == ["Email [EMAIL_1] about UPN [UPN_1]."]
    assert again.placeholders.restore("[UPN_1]") == UPN
    assert UPN not in again.decision.excerpt


@pytest.mark.e2e
def test_block_and_allow(pool, loop):
    blocked = loop.run_until_complete(pool.scan([f"UPN {UPN} has ADHD and a child protection plan."],
                                                tool=None, profile=None))
    assert blocked.decision.action == "block" and blocked.decision.texts is None
    assert "special_category_with_identifier" in blocked.decision.reasons
    clean = loop.run_until_complete(pool.scan(["Ideas for teaching fractions to Year 5."], tool=None, profile=None))
    assert clean.decision.action == "allow"


@pytest.mark.e2e
def test_time_budget_exceeded_blocks(pool, loop):
    result = loop.run_until_complete(pool.scan([LONG], tool=None, profile=None, budget_s=0.001))
    assert result.decision.action == "block" and result.decision.reasons == ["analysis_timeout"]
    assert result.placeholders is None
    # the pool is still usable afterwards
    ok = loop.run_until_complete(pool.scan([f"UPN {UPN}"], tool=None, profile=None))
    assert ok.decision.action == "redact"


@pytest.mark.e2e
def test_long_prompts_do_not_hold_up_short_ones(pool, loop):
    async def run():
        # more long prompts than general workers: they queue for each other...
        bigs = [asyncio.ensure_future(pool.scan([LONG], tool=None, profile=None, budget_s=60)) for _ in range(3)]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        small = await pool.scan([f"UPN {UPN}"], tool=None, profile=None)
        small_done = time.perf_counter() - started
        return small, small_done, await asyncio.gather(*bigs)

    small, small_done, bigs = loop.run_until_complete(run())
    assert small.decision.action == "redact"
    assert all(b.decision.action == "redact" for b in bigs)
    assert bigs[0].decision.texts[0].endswith("Please email [EMAIL_1].")
    # ...but the short prompt took the reserved worker: done before even the first long one
    assert small_done < min(b.total_ms for b in bigs) / 1000


@pytest.mark.e2e
def test_one_clients_huge_prompts_do_not_starve_another_clients_long_prompt(pool, loop):
    huge = LONG * 5  # 100,000 characters

    async def run():
        hog = [asyncio.ensure_future(pool.scan([huge], tool=None, profile=None, budget_s=60, client="10.0.0.9"))
               for _ in range(3)]
        await asyncio.sleep(0.05)
        teacher = await pool.scan([LONG], tool=None, profile=None, budget_s=60, client="10.0.0.7")
        hog_done_before = sum(h.done() for h in hog)
        return teacher, hog_done_before, await asyncio.gather(*hog)

    teacher, hog_done_before, hog = loop.run_until_complete(run())
    # one client may hold only one of the two general workers: the teacher's prompt took the other at once,
    # instead of queueing until one of the huge prompts was done
    assert teacher.decision.action == "redact" and hog_done_before == 0
    assert hog[0].decision.action == "redact"


@pytest.mark.e2e
def test_a_crashed_worker_fails_closed_and_is_replaced(pool, loop):
    async def crash_mid_scan():
        scan = asyncio.ensure_future(pool.scan([LONG], tool=None, profile=None, budget_s=120))
        while True:  # as soon as a worker has taken the long prompt, kill it
            busy = [w for w in pool._workers if w not in pool._idle]
            if busy:
                busy[0].process.kill()
                break
            await asyncio.sleep(0.001)
        for worker in pool._workers:  # and an idle one, which must be replaced before its next job
            if worker in pool._idle and not worker.short_only:
                worker.process.kill()
        return await scan

    result = loop.run_until_complete(crash_mid_scan())
    assert result.decision.action == "block" and result.decision.reasons == ["analysis_error"]
    # killed workers are replaced (the one that failed at once, the idle one before its next job)
    for _ in range(3):
        again = loop.run_until_complete(pool.scan([LONG], tool=None, profile=None, budget_s=120))
        assert again.decision.action == "redact"
    assert pool.healthy == 3


@pytest.mark.e2e
def test_recycle_applies_a_new_policy_without_dropping_scans(tmp_path, loop):
    strict = tmp_path / "strict.yaml"
    strict.write_text("version: 1\ndefault:\n  entities: {EMAIL_ADDRESS: block}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefault:\n  entities: {NOT_AN_ENTITY: block}\n")
    pool = ScanPool(EngineSpec(), size=1, reserved=1, hard_limit_s=60)
    pool.start()
    try:
        prompt = [f"Write to {EMAIL}."]

        async def run():
            assert (await pool.scan(prompt, tool=None, profile=None)).decision.action == "redact"
            loop_ = asyncio.get_running_loop()
            recycling = loop_.run_in_executor(None, pool.recycle, EngineSpec(policy=str(strict)))
            during = []
            while not recycling.done():  # scanning carries on while the new engines load
                during.append((await pool.scan(prompt, tool=None, profile=None)).decision.action)
                await asyncio.sleep(0.1)
            await recycling
            after = (await pool.scan(prompt, tool=None, profile=None)).decision.action
            with pytest.raises(PoolError):  # a bad policy is refused; the strict one stays in force
                await loop_.run_in_executor(None, pool.recycle, EngineSpec(policy=str(bad)))
            return during, after, (await pool.scan(prompt, tool=None, profile=None)).decision.action

        during, after, still = loop.run_until_complete(run())
        assert during and set(during) == {"redact"}
        assert after == "block" and still == "block"
        assert pool.healthy == 2
    finally:
        pool.close()


@pytest.mark.e2e
def test_bad_policy_stops_the_pool_with_a_clear_error(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nentities: {NOT_AN_ENTITY: redact}\n")
    with pytest.raises(PoolError, match="cannot start the detection engine"):
        ScanPool(EngineSpec(policy=str(bad)), size=1).start()


@pytest.mark.e2e
def test_concurrent_scans_of_one_conversation_stay_consistent(pool, loop):
    """Scans of one conversation run side by side; their placeholders merge, or a clash is detected."""
    from proxy.conversations import Conversations

    conversations = Conversations()
    conv = conversations.get(Conversations.key("openai-api", "10.0.0.7", None))

    async def scan(text: str):
        before = conv.placeholders.__getstate__()
        result = await pool.scan([text], tool=None, profile=None, placeholders=conv.placeholders)
        return result, conv.merge(before, result.placeholders)

    async def run():
        return await asyncio.gather(scan(f"Report for UPN {UPN}."), scan(f"Email {EMAIL} please."),
                                    scan("Email other.parent@example.org please."))

    (r1, ok1), (r2, ok2), (r3, ok3) = loop.run_until_complete(run())
    assert r1.decision.texts == ["Report for UPN [UPN_1]."]
    assert ok1  # a different kind of value from the others: no clash, kept
    # both e-mail scans started from an empty map and each called its address [EMAIL_1]: whichever merges second
    # must be refused (the caller then scans it again), never silently mislabelled
    assert sorted([ok2, ok3]) == [False, True]
    winner = EMAIL if ok2 else "other.parent@example.org"
    assert conv.placeholders.restore("[UPN_1] [EMAIL_1]") == f"{UPN} {winner}"


def test_conversations_expire_and_are_keyed_without_identities():
    from proxy.conversations import Conversations

    now = [0.0]
    conversations = Conversations(ttl_s=60, clock=lambda: now[0])
    key = Conversations.key("chatgpt", "10.0.0.7", None, "conv-1")
    assert "10.0.0.7" not in key and key != Conversations.key("chatgpt", "10.0.0.8", None, "conv-1")
    first = conversations.get(key)
    assert conversations.get(key) is first
    now[0] = 61
    assert conversations.get(key) is not first and len(conversations) == 1


def test_a_conversation_that_outgrows_its_map_keeps_the_latest_values_and_never_reuses_a_placeholder():
    from detectors import Placeholders
    from proxy.conversations import MAX_VALUES, Conversation

    conv = Conversation(Placeholders())
    before = conv.placeholders.__getstate__()
    grown = conv.placeholders.copy()
    emails = [f"parent{i}@example.org" for i in range(MAX_VALUES + 1)]
    tokens = [grown.placeholder("EMAIL_ADDRESS", e) for e in emails]
    assert conv.merge(before, grown)
    conv.trim(tokens[-1:])
    assert len(conv.placeholders) == 1
    assert conv.placeholders.restore(tokens[-1]) == emails[-1]
    assert conv.placeholders.restore(tokens[0]) == tokens[0]  # forgotten: left as it is, never another value
    assert conv.placeholders.placeholder("EMAIL_ADDRESS", "new@example.org") == f"[EMAIL_{MAX_VALUES + 2}]"
