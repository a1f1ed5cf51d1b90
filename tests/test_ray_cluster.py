"""The `ray_cluster` fixture gives a working local Ray cluster: two CPUs, remote tasks run on it
in worker processes (not the test's), and those workers import this checkout's dedup."""
from __future__ import annotations

import os

import pytest
from conftest import REPO


@pytest.fixture
def ray_driver(ray_cluster):
    """`ray`, connected to the session's cluster for one test."""
    import ray

    ray.init(address=ray_cluster, log_to_driver=False, include_dashboard=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_the_cluster_has_two_cpus_and_runs_remote_tasks_in_workers(ray_driver):
    ray = ray_driver
    assert ray.cluster_resources().get("CPU") == 2.0

    @ray.remote(num_cpus=1)
    def square_and_pid(x: int) -> tuple[int, int]:
        return x * x, os.getpid()

    results = ray.get([square_and_pid.remote(x) for x in range(6)])
    assert [value for value, _ in results] == [x * x for x in range(6)]
    assert os.getpid() not in {pid for _, pid in results}


def test_a_task_may_take_both_cpus_and_one_needing_more_is_never_placed(ray_driver):
    ray = ray_driver

    @ray.remote(num_cpus=2)
    def both() -> str:
        return ray.get_runtime_context().get_node_id()

    assert ray.get(both.remote(), timeout=60)
    too_big = ray.remote(num_cpus=3)(lambda: None).remote()
    ready, _ = ray.wait([too_big], timeout=1)
    assert ready == []  # infeasible on a 2-CPU cluster: it waits, never runs
    ray.cancel(too_big, force=True)


def test_workers_import_this_checkouts_dedup(ray_driver):
    ray = ray_driver

    @ray.remote(num_cpus=1)
    def where() -> str:
        import dedup

        return dedup.__file__

    assert os.path.realpath(ray.get(where.remote(), timeout=60)) == os.path.realpath(REPO / "dedup" / "__init__.py")
