"""The spool's files on their own: segments, locks, progress and the bound (D17)."""

from __future__ import annotations

from multica.analytics.spool import Spool, SpoolFull

import pytest


def records(start: int, count: int) -> list[bytes]:
    return [b'{"uuid":"%d"}' % i for i in range(start, start + count)]


def test_a_segment_is_replayed_after_its_acknowledged_batches(tmp_path):
    spool = Spool(tmp_path, 1024 * 1024)
    spool.append(records(0, 5))
    assert spool.claim() is None  # the writer holds its active segment
    assert spool.seal()
    segment = spool.claim()
    assert segment.next_batch(2) == records(0, 2)
    assert segment.next_batch(2) == records(0, 2)  # not acknowledged: the same batch again
    segment.ack()
    segment.release()  # e.g. the process stops mid-replay
    again = Spool(tmp_path, 1024 * 1024).claim()
    assert again.next_batch(10) == records(2, 3)
    again.ack()
    assert again.done
    again.delete()
    assert list(tmp_path.iterdir()) == []


def test_one_replayer_per_segment(tmp_path):
    writer = Spool(tmp_path, 1024 * 1024, segment_bytes=4096)
    for i in range(3):
        writer.append(records(i * 100, 100))  # ~1.3 KB each: rotates every few writes
    writer.close()
    first, second = Spool(tmp_path, 1024 * 1024), Spool(tmp_path, 1024 * 1024)
    held = []
    while (segment := first.claim()) is not None:
        held.append(segment)
    assert held and second.claim() is None  # every segment is locked by the first replayer
    for segment in held:
        segment.delete()
    assert second.claim() is None and first.segments() == []


def test_a_torn_last_line_is_skipped(tmp_path):
    spool = Spool(tmp_path, 1024 * 1024)
    spool.append(records(0, 2))
    spool.close()
    (path,) = spool.segments()
    with open(path, "ab") as handle:
        handle.write(b'{"uuid":"tor')  # a write cut short by a kill
    segment = spool.claim()
    assert segment.next_batch(10) == records(0, 2)
    segment.ack()
    assert segment.done


def test_the_bound_deletes_the_oldest_segments_and_counts_their_events(tmp_path):
    spool = Spool(tmp_path, 16 * 1024, segment_bytes=4096)
    dropped = 0
    for i in range(40):
        dropped += spool.append(records(i * 50, 50))  # ~700 B per write
    assert dropped > 0
    assert spool.size(fresh=True) <= 16 * 1024
    spool.close()
    kept = []
    while (segment := spool.claim()) is not None:
        kept += segment.next_batch(10_000)
        segment.delete()
    # The newest events survive, and every event is either kept or counted as dropped.
    assert kept[-1] == records(1999, 1)[0]
    assert len(kept) + dropped == 2000


def test_a_batch_larger_than_the_bound_is_refused_and_leaves_nothing(tmp_path):
    spool = Spool(tmp_path, 4096)
    with pytest.raises(SpoolFull):
        spool.append([b"x" * 5000])
    assert spool.size(fresh=True) == 0


def test_sweep_removes_what_killed_processes_left(tmp_path):
    import os
    import time

    spool = Spool(tmp_path, 1024 * 1024)
    spool.append(records(0, 1))
    spool.close()
    (kept,) = spool.segments()
    kept.with_suffix(".ack").write_text("0\n")
    (tmp_path / "00000000000000000001-1-000001.ack").write_text("12\n")  # its segment was deleted
    stale = tmp_path / "00000000000000000002-1-000001.tmp"
    stale.write_bytes(b"")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = tmp_path / "00000000000000000003-1-000001.tmp"  # maybe being created right now
    fresh.write_bytes(b"")
    spool.sweep()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kept.name, kept.with_suffix(".ack").name, fresh.name])
