"""The `vllm bench serve` cross-check plumbing: its command line, the round protocol of the
long-lived process (against a stand-in script, no vLLM needed), the paired comparison and its
interval, and our metrics module replayed on vLLM's own per-request stamps."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import binom

from workbench.load.vllm_bench import (
    READY_MARKER,
    ROUND_MARKER,
    BenchRounds,
    CrossCheckRow,
    VllmBenchError,
    combine,
    command,
    crosscheck_rows,
    edge_gaps_ms,
    median_interval,
    replay,
    replay_records,
)
from workbench.records.responses import PointSpec


def test_command_line(tmp_path: Path) -> None:
    cmd = command(Path("/venv/bin/python"), base_url="http://127.0.0.1:9/v1", model="m",
                  tokenizer=tmp_path, dataset=tmp_path / "p.jsonl", num_prompts=8,
                  concurrency=2, output_len=24, result_dir=tmp_path,
                  extra_body={"cache_prompt": False})
    args = cmd[3:]
    assert args[args.index("--base-url") + 1] == "http://127.0.0.1:9"
    assert args[args.index("--header") + 1] == "Connection=close"  # llama-server closes anyway
    assert json.loads(args[args.index("--extra-body") + 1]) == {"cache_prompt": False}
    for flag in ("--ignore-eos", "--save-detailed", "--disable-shuffle", "--skip-chat-template"):
        assert flag in args
    assert "for line in sys.stdin" in cmd[2] and "copy.deepcopy(args)" in cmd[2]


#: Stands in for vLLM: the same markers and result files, numbers taken from the name.
_FAKE = (
    "import json, sys\n"
    f"print({READY_MARKER!r}, flush=True)\n"
    "for line in sys.stdin:\n"
    "    name = line.strip()\n"
    "    if not name:\n"
    "        break\n"
    "    if name == 'crash.json':\n"
    "        sys.exit(3)\n"
    "    print('noise', flush=True)\n"
    "    json.dump({'completed': len(name)}, open(sys.argv[1] + '/' + name, 'w'))\n"
    f"    print({ROUND_MARKER!r}, name, flush=True)\n"
)


def test_rounds_protocol(tmp_path: Path) -> None:
    rounds = BenchRounds([sys.executable, "-c", _FAKE, str(tmp_path)], tmp_path,
                         state_dir=tmp_path / "state")
    rounds.wait_ready(timeout_s=30)
    assert rounds.run_round("a.json", timeout_s=30) == {"completed": 6}
    assert rounds.run_round("round-1.json", timeout_s=30) == {"completed": 12}
    with pytest.raises(VllmBenchError, match="ended"):
        rounds.run_round("crash.json", timeout_s=30)
    rounds.close()
    assert "noise" in rounds.log.read_text()


def test_paired_comparison() -> None:
    def rows(ours: float, vllm: float) -> list[CrossCheckRow]:
        return [CrossCheckRow(metric="TTFT mean (ms)", ours=ours, vllm=vllm),
                CrossCheckRow(metric="request throughput (req/s)", ours=1.0, vllm=1.0)]

    # Drift: the machine slows down round after round; one pair caught a burst.
    combined = combine([rows(100, 102), rows(200, 196), rows(300, 300), rows(400, 900)])
    ttft = combined[0]
    assert ttft.round_diffs_pct == pytest.approx([-100 * 2 / 102, 100 * 4 / 196, 0.0,
                                                  -100 * 500 / 900])
    assert ttft.diff_pct == pytest.approx((-100 * 2 / 102 + 0.0) / 2)  # median of 4 diffs
    assert (ttft.ours_median, ttft.vllm_median) == (250, 248)
    assert combined[1].diff_pct == 0.0
    assert combine([]) == []
    # A metric missing from any round is left out.
    assert [c.metric for c in combine([rows(1, 1), rows(1, 1)[1:]])] == [
        "request throughput (req/s)"]


def test_median_interval_order_statistics() -> None:
    # n = 6: P(Bin(6, 1/2) < 1) = 1/64, coverage 1 - 2/64 = 96.9% -> [min, max]; k = 2 would
    # cover only 1 - 14/64 = 78%.
    assert median_interval([3.0, -1.0, 2.0, 9.0, 0.0, -4.0]) == (-4.0, 9.0)
    # n = 10: k = 2 covers 1 - 2 * 11/1024 = 97.9%, k = 3 only 89.1% -> [x_(2), x_(9)].
    assert median_interval([float(x) for x in range(10)]) == (1.0, 8.0)
    # n = 5: even [min, max] covers only 93.75%: no interval at 95%.
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == (-math.inf, math.inf)
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0], confidence=0.9) == (1.0, 5.0)


@pytest.mark.parametrize("n", range(6, 40))
def test_median_interval_is_the_tightest_with_its_coverage(n: int) -> None:
    values = [float(x) for x in range(n)]
    low, _ = median_interval(values)
    k = int(low) + 1  # x_(k) is the value k - 1 here
    assert 1 - 2 * binom.cdf(k - 1, n, 0.5) >= 0.95  # scipy: P(Bin(n, 1/2) <= k - 1)
    assert 1 - 2 * binom.cdf(k, n, 0.5) < 0.95


def _vllm_result() -> dict[str, Any]:
    """A `--save-detailed` result by hand: A has 4 tokens, B 7, C failed. Each ITL list
    starts with the role chunk -> first token gap and ends with last token -> finish (0)."""
    return {
        "duration": 2.5,
        "start_times": [10.0, 10.2, 10.3],
        "ttfts": [0.5, 1.0, 0.0],
        "itls": [[0.0, 0.1, 0.1, 0.1, 0.0], [0.0] + [0.2] * 6 + [0.0], []],
        "latencies": [0.8, 2.2, 0.0],
        "input_lens": [10, 12, 0],
        "output_lens": [4, 7, 0],
        "errors": ["", "", "Server disconnected"],
        # vLLM's own numbers for these stamps (ms), worked out by hand:
        "mean_ttft_ms": 750.0, "median_ttft_ms": 750.0,
        "mean_tpot_ms": 150.0,  # per request (0.3/3 and 1.2/6), not token-weighted (166.7)
        "mean_e2el_ms": 1500.0,
        "mean_itl_ms": 1000.0 * (0.3 + 1.2) / 13,  # 13 gaps, the 4 edge ones included
        "request_throughput": 2 / 2.5, "output_throughput": 11 / 2.5,
        "total_token_throughput": (22 + 11) / 2.5,
    }


def test_replay_reproduces_vllms_numbers_from_its_stamps() -> None:
    theirs = _vllm_result()
    spec = PointSpec(requests=3, concurrency=2)
    records = replay_records(theirs)
    assert [r.status for r in records] == ["ok", "ok", "error"]
    assert records[1].timing.ttft_s() == pytest.approx(1.0)
    assert records[1].timing.e2e_s() == pytest.approx(2.2)
    summary = replay(theirs, spec)
    assert summary.completed == 2 and summary.failed == 1
    assert summary.tpot is not None and summary.tpot.mean == pytest.approx(0.15)
    rows = {row.metric: row for row in crosscheck_rows(summary, theirs)}
    assert set(rows) >= {"TTFT mean (ms)", "TTFT median (ms)", "TPOT mean (ms)",
                         "ITL mean (ms)", "E2E mean (ms)", "request throughput (req/s)",
                         "output throughput (tok/s)", "total throughput (tok/s)"}
    for row in rows.values():
        assert row.diff_pct == pytest.approx(0.0, abs=1e-9), row.metric


def test_edge_gaps_of_vllms_stamps() -> None:
    theirs = _vllm_result()
    theirs["itls"][0] = [0.002, 0.1, 0.1, 0.1, 0.0005]
    theirs["itls"][2] = [9.0, 9.0]  # a failed request's stamps are not looked at
    assert edge_gaps_ms(theirs) == pytest.approx((2.0, 0.5))
