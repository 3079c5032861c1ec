"""What the runner relies on in joblib, dask/distributed and pyabc, pinned: a release that
changes one of these fails here, by name, rather than as a hang or a wrong table."""

from __future__ import annotations

import inspect
import os
import threading

import pytest


# ----------------------------------------------------------------------------- joblib
def test_loky_start_method_can_be_set_and_restored():
    # sweeps.backends._loky_started_by: forked loky workers on Linux
    from joblib.externals.loky.backend import context

    before = context.get_start_method()
    context.set_start_method("fork", force=True)
    assert context.get_start_method() == "fork"
    context.set_start_method(before, force=True)
    assert context.get_start_method() == before


def _die(_: int) -> None:
    os._exit(1)


def test_a_dead_loky_worker_surfaces_as_broken_process_pool_from_an_unordered_generator():
    # sweeps.backends._run_joblib catches exactly this to blame one run and go on
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import BrokenProcessPool

    parallel = Parallel(n_jobs=2, backend="loky", return_as="generator_unordered")
    with pytest.raises(BrokenProcessPool):
        list(parallel(delayed(_die)(i) for i in range(2)))


def test_joblib_pulls_tasks_only_as_workers_free_up():
    # sweeps.backends._Feed: the handed-out, unreturned tasks are those in flight when a
    # worker dies, which holds only if joblib does not drain the input ahead of time
    from joblib import Parallel, delayed

    pulled, lock = [], threading.Lock()

    def tasks():
        for i in range(200):
            with lock:
                pulled.append(i)
            yield delayed(abs)(i)

    parallel = Parallel(
        n_jobs=2, backend="loky", return_as="generator_unordered", pre_dispatch="2*n_jobs"
    )
    results = parallel(tasks())
    next(results)
    with lock:
        early = len(pulled)
    assert early < 200
    assert len(list(results)) == 199


# ----------------------------------------------------------------------------- dask
def test_the_nanny_pre_spawn_environment_is_where_the_forkserver_reads_it():
    # sweeps.backends.dask_worker_environ reads distributed.yaml without importing
    # distributed; the result must be what Dask itself would set
    import dask
    import distributed  # noqa: F401  (loads its defaults into dask.config)

    from sweeps.backends import DASK_HASH_SEED, dask_worker_environ

    configured = dask.config.get("distributed.nanny.pre-spawn-environ")
    assert isinstance(configured, dict) and "OMP_NUM_THREADS" in configured
    environ = dask_worker_environ()
    for name, value in configured.items():
        if value is not None:
            assert environ[name] == os.environ.get(name, str(value))
    source = inspect.getsource(__import__("distributed.nanny", fromlist=["Nanny"]))
    assert "PYTHONHASHSEED" in source and DASK_HASH_SEED in source


def test_waiting_for_workers_times_out_with_a_timeout_error():
    # sweeps.backends._wait_for_a_worker says so after a while, then waits on
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
        pytest.raises(TimeoutError),
    ):
        client.wait_for_workers(1, timeout=0.2)


def test_dask_still_has_the_settings_and_names_the_runner_uses():
    import dask
    import distributed  # noqa: F401
    from distributed import KilledWorker, as_completed  # noqa: F401

    for key in (
        "distributed.scheduler.allowed-failures",
        "distributed.worker.multiprocessing-method",
        "distributed.worker.profile.enabled",
    ):
        assert dask.config.get(key, default=KeyError) is not KeyError, key


# ----------------------------------------------------------------------------- pyabc
def test_pyabc_calls_the_sampler_with_the_keywords_the_seeded_sampler_takes():
    # sweeps.calibrate._make_sampler subclasses pyabc's Sampler and overrides
    # sample_until_n_accepted(n, simulate_one, t, *, max_eval, all_accepted, ana_vars)
    import pyabc.inference.smc as smc
    from pyabc.sampler import Sampler

    assert callable(Sampler._create_empty_sample)
    assert list(inspect.signature(Sampler.sample_until_n_accepted).parameters)[:4] == [
        "self", "n", "simulate_one", "t"
    ]  # fmt: skip
    calls = inspect.getsource(smc).split("sampler.sample_until_n_accepted(")[1:]
    assert calls
    taken = {"n", "simulate_one", "t", "max_eval", "all_accepted", "ana_vars"}
    for call in calls:
        passed = {part.split("=")[0].strip() for part in call.split(")")[0].split(",")}
        assert passed - {""} <= taken, passed
    assert "nr_evaluations_" in inspect.getsource(Sampler)
