"""The classroom's layout pool (viz.classroom.layouts): layouts run in worker processes,
side by side, and a connection that used a lot of layout time lately waits behind the
others and never holds every worker."""

import asyncio
import concurrent.futures
import multiprocessing
import os
import time

import pytest

from viz.classroom.layouts import LayoutPool, shared_executor


class ManualExecutor(concurrent.futures.Executor):
    """Holds each job until the test finishes it: what runs, in what order."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, concurrent.futures.Future]] = []

    def submit(self, fn, /, *args):
        future: concurrent.futures.Future = concurrent.futures.Future()
        self.jobs.append((args[0], future))
        return future

    def finish(self, name: str) -> None:
        index = [n for n, _ in self.jobs].index(name)
        self.jobs.pop(index)[1].set_result(name)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_heavy_user_never_holds_every_worker_and_a_fresh_one_goes_first():
    async def scene() -> None:
        executor = ManualExecutor()
        pool = LayoutPool(workers=2, budget=1.0, window=3600, executor=executor)
        pool.usage["heavy"] = (30.0, time.monotonic())  # 30 s of layouts just now
        pool.usage["busy"] = (0.5, time.monotonic())
        heavy = [asyncio.ensure_future(pool.run("heavy", str, f"heavy{k}")) for k in range(3)]
        await settle()
        assert [n for n, _ in executor.jobs] == ["heavy0"]  # the other worker stays free
        fresh = asyncio.ensure_future(pool.run("fresh", str, "fresh"))
        await settle()
        assert [n for n, _ in executor.jobs] == ["heavy0", "fresh"]
        busy = asyncio.ensure_future(pool.run("busy", str, "busy"))
        newcomer = asyncio.ensure_future(pool.run("newcomer", str, "newcomer"))
        await settle()
        executor.finish("fresh")
        await settle()
        assert await fresh == "fresh"
        # the one that used least lately goes first, then the next, heavy ones last
        assert [n for n, _ in executor.jobs] == ["heavy0", "newcomer"]
        executor.finish("newcomer")
        await settle()
        assert [n for n, _ in executor.jobs] == ["heavy0", "busy"]
        executor.finish("heavy0")
        await settle()
        assert [n for n, _ in executor.jobs] == ["busy", "heavy1"]
        for name in ("busy", "heavy1"):
            executor.finish(name)
            await settle()
        executor.finish("heavy2")
        assert await asyncio.gather(*heavy, busy, newcomer) == [
            "heavy0",
            "heavy1",
            "heavy2",
            "busy",
            "newcomer",
        ]
        assert pool.free == 2 and pool.heavy_running == 0 and not pool.waiting

    asyncio.run(scene())


def test_a_cancelled_wait_gives_its_place_back():
    async def scene() -> None:
        executor = ManualExecutor()
        pool = LayoutPool(workers=1, executor=executor)
        first = asyncio.ensure_future(pool.run("a", str, "a"))
        second = asyncio.ensure_future(pool.run("b", str, "b"))
        await settle()
        second.cancel()  # the page went away while it waited
        await settle()
        executor.finish("a")
        assert await first == "a"
        assert pool.free == 1 and not pool.waiting and not executor.jobs

    asyncio.run(scene())


def _meet(barrier) -> int:  # noqa: ANN001
    barrier.wait(timeout=120)  # both jobs must run at once to get past it
    return os.getpid()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_layouts_run_side_by_side_in_worker_processes():
    with multiprocessing.get_context("spawn").Manager() as manager:
        barrier = manager.Barrier(2)
        pool = LayoutPool(workers=2, executor=shared_executor(2))

        async def both() -> list[int]:
            return await asyncio.gather(
                pool.run("a", _meet, barrier), pool.run("b", _meet, barrier)
            )

        pids = asyncio.run(both())
    assert len(set(pids)) == 2 and os.getpid() not in pids


def test_a_big_job_never_takes_the_last_worker_even_from_a_fresh_owner():
    async def scene() -> None:
        executor = ManualExecutor()
        pool = LayoutPool(workers=2, executor=executor)
        first = asyncio.ensure_future(pool.run("a", str, "long formula a", big=True))
        second = asyncio.ensure_future(pool.run("b", str, "long formula b", big=True))
        await settle()
        assert [n for n, _ in executor.jobs] == ["long formula a"]
        small = asyncio.ensure_future(pool.run("c", str, "neuron graph"))
        await settle()
        assert [n for n, _ in executor.jobs] == ["long formula a", "neuron graph"]
        for name in ("neuron graph", "long formula a", "long formula b"):
            executor.finish(name)
            await settle()
        assert await asyncio.gather(first, second, small) == [
            "long formula a",
            "long formula b",
            "neuron graph",
        ]

    asyncio.run(scene())
