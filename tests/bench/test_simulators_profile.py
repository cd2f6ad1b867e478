"""The simulators' profile: each connection thread profiles itself once asked, and the profiles merge."""

from __future__ import annotations

import threading

from bench.simulators_profile import _by_file, _ThreadProfiles


def _busy_work() -> int:
    return sum(i * i for i in range(20_000))


def _serve_requests(profiles: _ThreadProfiles, requests: int) -> None:
    for _ in range(requests):
        profiles.on_request()  # what the router's dispatch does at each request
        _busy_work()


def test_threads_profile_themselves_from_their_next_request_and_merge() -> None:
    profiles = _ThreadProfiles()
    _serve_requests(profiles, 2)  # not asked yet: nothing is profiled
    assert profiles.profiles == []
    profiles.wanted = True
    threads = [threading.Thread(target=_serve_requests, args=(profiles, 3)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(profiles.profiles) == 2
    stats = profiles.stats()
    assert stats is not None and not profiles.wanted and profiles.profiles == []
    calls = {name: row[1] for (_, _, name), row in stats.stats.items()}  # type: ignore[attr-defined]
    # the first request of each thread switches its profiler on inside on_request: 3 calls each are seen
    assert calls["_busy_work"] == 6
    assert "test_simulators_profile.py" in _by_file(stats, 40)


def test_a_thread_stops_profiling_at_its_next_request_once_no_longer_wanted() -> None:
    profiles = _ThreadProfiles()
    profiles.wanted = True
    _serve_requests(profiles, 1)
    profiles.wanted = False
    _serve_requests(profiles, 1)
    assert profiles._local.profile is None
