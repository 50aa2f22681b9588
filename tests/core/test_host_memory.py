"""rill's malloc policy: freed tensor-sized buffers stay mapped between ops."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from rill.core import host_memory

_GLIBC = sys.platform.startswith("linux") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith(
    "glibc"
)

# Three 1 MiB arrays made and freed per round: with glibc's start thresholds the freed
# heap top (3 MiB) passes the trim threshold its adaptive rule sets (2 MiB), so every
# round gives the pages back and faults them in again.
_ROUNDS = textwrap.dedent(
    """
    import resource
    import numpy as np
    import rill
    from rill.core import host_memory
    def rounds(n):
        for _ in range(n):
            a = [np.ones(1 << 17) for _ in range(3)]
            del a
    rounds(3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    rounds(20)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    print(host_memory.tune_malloc(), after - before)
    """
)


def _faults(**env):
    full = {k: v for k, v in os.environ.items() if k != "RILL_MALLOC_TUNING"}
    full.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _ROUNDS], env=full, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@pytest.mark.skipif(not _GLIBC, reason="the policy applies to glibc's malloc only")
def test_freed_buffers_stay_mapped():
    tuned, tuned_faults = _faults()
    plain, plain_faults = _faults(RILL_MALLOC_TUNING="0")
    assert tuned and not plain
    pages = 20 * 3 * (1 << 20) // os.sysconf("SC_PAGE_SIZE")  # the rounds' pages, once each
    assert plain_faults > pages // 4  # glibc's defaults: pages given back, faulted again
    assert tuned_faults < pages // 50


@pytest.mark.parametrize(
    "env",
    [
        {"RILL_MALLOC_TUNING": "0"},
        {"MALLOC_TRIM_THRESHOLD_": "1000000"},
        {"MALLOC_MMAP_THRESHOLD_": "65536"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"},
    ],
)
def test_user_settings_win(env, monkeypatch):
    monkeypatch.setattr(host_memory, "_applied", [])
    assert host_memory.tune_malloc(env) is False


def test_decided_once(monkeypatch):
    monkeypatch.setattr(host_memory, "_applied", [])
    first = host_memory.tune_malloc({})
    assert first is _GLIBC
    assert host_memory.tune_malloc({"RILL_MALLOC_TUNING": "0"}) is first  # already decided
