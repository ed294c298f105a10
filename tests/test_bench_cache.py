"""The benchmarks' curve cache (bench/common.py, ``cached``): a curve is reused
only for the same kind, settings and snnhw sources."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(common, "REPO", tmp_path)
    monkeypatch.setattr(common, "_cache_enabled", True)
    monkeypatch.setattr(common, "_SOURCE_DIGEST", "sources-v1")
    calls = []

    def compute(value):
        def fn():
            calls.append(value)
            return dict(curve=np.array([value, value + 1.0]))
        return fn

    return calls, compute


def test_same_settings_are_simulated_once(cache):
    calls, compute = cache
    a = common.cached("float", dict(p=99.9, T=2), compute(1.0))
    b = common.cached("float", dict(T=2, p=99.9), compute(5.0))  # same settings, other order
    assert calls == [1.0]
    assert np.array_equal(a["curve"], b["curve"])


def test_other_settings_kind_or_sources_recompute(cache, monkeypatch):
    calls, compute = cache
    common.cached("float", dict(p=99.9), compute(1.0))
    common.cached("float", dict(p=100.0), compute(2.0))
    common.cached("golden", dict(p=99.9), compute(3.0))
    monkeypatch.setattr(common, "_SOURCE_DIGEST", "sources-v2")  # the simulator changed
    common.cached("float", dict(p=99.9), compute(4.0))
    assert calls == [1.0, 2.0, 3.0, 4.0]


def test_disabled_cache_always_computes(cache, monkeypatch):
    calls, compute = cache
    monkeypatch.setattr(common, "_cache_enabled", False)
    common.cached("float", dict(p=99.9), compute(1.0))
    common.cached("float", dict(p=99.9), compute(2.0))
    assert calls == [1.0, 2.0]


def test_array_digest_sees_values_dtype_and_shape():
    a = np.arange(6, dtype=np.uint8)
    assert common.array_digest(a) == common.array_digest(a.copy())
    assert common.array_digest(a) != common.array_digest(a[::-1])
    assert common.array_digest(a) != common.array_digest(a.astype(np.int16))
    assert common.array_digest(a) != common.array_digest(a.reshape(2, 3))


def test_chunked_curve_combines_chunks_and_reuses_a_prefix(cache):
    calls = []

    def simulate(xc, yc):
        calls.append(len(xc))
        return dict(hits=np.array([(xc[:, 0] == yc).sum(), len(xc)]), ops=np.array([float(xc.sum())]))

    x = np.arange(10).reshape(10, 1)
    y = np.array([0, 1, 2, 9, 9, 5, 9, 9, 9, 0])  # 4 of 10 correct
    first = common.chunked_curve("float", dict(p=99.9), x[:4], y[:4], simulate, chunk=4)
    assert calls == [4] and np.array_equal(first["curve"], [3 / 4, 1.0])
    full = common.chunked_curve("float", dict(p=99.9), x, y, simulate, chunk=4)
    assert calls == [4, 4, 2]  # the first chunk came from the cache
    assert np.array_equal(full["curve"], [4 / 10, 1.0])
    assert np.array_equal(full["ops"], [x.sum() / 10])


def test_results_independent_of_snnhw_survive_source_changes(cache, monkeypatch):
    calls, compute = cache
    common.cached("spikingjelly", dict(mode="Max"), compute(1.0), snnhw_sources=False)
    monkeypatch.setattr(common, "_SOURCE_DIGEST", "sources-v2")
    common.cached("spikingjelly", dict(mode="Max"), compute(2.0), snnhw_sources=False)
    assert calls == [1.0]


def _lock_of(kind, settings):
    key = common._digest(common.json.dumps(dict(kind=kind, settings=settings, source=common.source_digest()),
                                           sort_keys=True, default=str).encode())
    return common.CACHE / f"{kind}_{key}.lock"


def test_an_entry_locked_by_a_live_process_is_busy_a_dead_ones_lock_is_cleared(cache):
    calls, compute = cache
    common.CACHE.mkdir(parents=True)
    lock = _lock_of("float", dict(p=99.9))
    lock.write_text(str(common.os.getpid()))  # a live process is simulating it
    assert common.cached("float", dict(p=99.9), compute(1.0), wait=False) is common._BUSY
    assert calls == []
    lock.write_text("999999999")  # no such process: stale
    assert common.cached("float", dict(p=99.9), compute(2.0), wait=False)["curve"][0] == 2.0
    assert calls == [2.0] and not lock.exists()


def test_chunked_curve_skips_a_chunk_in_progress_and_collects_it_later(cache, monkeypatch):
    x, y = np.arange(4).reshape(4, 1), np.arange(4)
    settings = dict(p=99.9)
    common.CACHE.mkdir(parents=True)
    lock = _lock_of("float", dict(settings, x=common.array_digest(x[:2]), y=common.array_digest(y[:2])))
    lock.write_text(str(common.os.getpid()))
    order = []

    def simulate(xc, yc):
        order.append(int(xc[0, 0]))
        return dict(hits=np.array([len(xc)]))

    def other_process_finishes(_seconds):  # while we wait, the lock holder stores chunk 0
        lock.unlink()
        common.cached("float", dict(settings, x=common.array_digest(x[:2]), y=common.array_digest(y[:2])),
                      lambda: simulate(x[:2], y[:2]))

    monkeypatch.setattr(common.time, "sleep", other_process_finishes)
    assert common.chunked_curve("float", settings, x, y, simulate, chunk=2)["curve"][0] == 1.0
    assert order == [2, 0]  # chunk 1 first, chunk 0 by the "other process"
