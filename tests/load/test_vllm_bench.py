"""The `vllm bench serve` cross-check plumbing: its command line, the round protocol of the
long-lived process (against a stand-in script, no vLLM needed) and the paired comparison."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from workbench.load.vllm_bench import (
    READY_MARKER,
    ROUND_MARKER,
    Agreement,
    BenchRounds,
    VllmBenchError,
    combine,
    command,
)


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
    def rows(ours: float, vllm: float) -> list[Agreement]:
        return [Agreement(metric="TTFT mean (ms)", ours=ours, vllm=vllm),
                Agreement(metric="request throughput (req/s)", ours=1.0, vllm=1.0)]

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
