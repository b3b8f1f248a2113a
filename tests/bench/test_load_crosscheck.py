"""The cross-check's own readings (no engine): llama.cpp's slot launches from its log, a
client's first-wave spread, the CLI's bounds, and the verdict against the 5% target."""

from __future__ import annotations

import pytest

from workbench.bench.load import (
    first_wave_spread_ms,
    launch_groups,
    launch_times,
    main,
    verdict,
)
from workbench.load.vllm_bench import Combined

#: llama-server's own lines (copied from a run here, ids shortened), M.SS.mmm.uuu stamps.
_LOG = """\
0.01.005.441 I srv  llama_server: listening on http://127.0.0.1:51523
0.59.995.000 I slot launch_slot_: id 15 | task 0 | processing task, is_child = 0
1.00.001.000 I slot get_availabl: id 14 | task -1 | selected slot by LRU, t_last = -1
1.00.001.500 I slot launch_slot_: id 14 | task 2 | processing task, is_child = 0
1.02.500.000 I slot launch_slot_: id 13 | task 4 | processing task, is_child = 0
1.02.500.900 I slot launch_slot_: id 12 | task 5 | processing task, is_child = 0
1.02.509.000 I slot launch_slot_: id 11 | task 6 | processing task, is_child = 0
"""


def test_launch_times_read_minutes_seconds_ms_us() -> None:
    assert launch_times(_LOG) == pytest.approx([59.995, 60.0015, 62.5, 62.5009, 62.509])


def test_launch_groups_split_at_gaps_over_10_ms() -> None:
    # 59.995 -> 60.0015 is 6.5 ms (one server step), then 2.5 s, then 0.9 and 8.1 ms.
    assert launch_groups(launch_times(_LOG)) == [2, 3]
    assert launch_groups([0.0, 0.02, 0.04]) == [1, 1, 1]
    assert launch_groups([]) == []


def test_first_wave_spread() -> None:
    # The first 3 starts (sorted) of a c=3 run: 5.000 .. 5.012.
    assert first_wave_spread_ms([5.012, 5.0, 7.0, 5.004, 9.0], 3) == pytest.approx(12.0)


def _row(ours: list[float]) -> Combined:
    return Combined(metric="TTFT mean (ms)", ours=ours, vllm=[100.0] * len(ours))


def test_verdict_needs_the_interval_inside_5_percent_to_pass() -> None:
    assert verdict(_row([101, 99, 102, 98, 104, 97])) == "PASS"  # [-3%, +4%]
    assert verdict(_row([101, 99, 102, 98, 110, 97])).startswith("pass (median")  # max +10%
    assert verdict(_row([106, 107, 108, 95, 96, 109])) == "FAIL (> 5%)"  # median +6.5%
    assert verdict(_row([94, 94.5, 96, 97, 98, 99])) == "pass (median; interval wider than 5%)"


def test_rounds_are_bounded_by_the_abba_order() -> None:
    with pytest.raises(SystemExit):
        main(["--rounds", "7"])
    with pytest.raises(SystemExit):
        main(["--rounds", "0"])
