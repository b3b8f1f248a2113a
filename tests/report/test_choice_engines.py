"""The built-in checks of the choice, on real engines (llama.cpp and vLLM CPU) with real
models: the same SmolLM2 weights on two engines come out statistically tied on quality
after Holm correction, and a real second model (Qwen2.5-Coder-0.5B) is called
significantly better. The scoring is only trusted because it passes both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stacks.conftest import settings, stack_on_free_ports  # noqa: F401 - the fixture
from workbench.report.choice import recommend
from workbench.report.stored import scorecard_for_run
from workbench.runner.run import RunOptions
from workbench.runner.session import create_run, execute
from workbench.settings import Settings
from workbench.stacks import launcher
from workbench.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.vllm, pytest.mark.llamacpp]

BASE, TWIN, QWEN = "llamacpp-cpu", "vllm-cpu", "llamacpp-cpu-qwen05"
#: Enough pairs for a +0.4 F1 difference to be unmistakable, few enough for CI.
QUESTIONS = 30


async def test_same_weights_tie_and_a_better_model_is_called_better(
        settings: Settings, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    if not settings.vllm_python_path.is_file():
        pytest.skip("the vLLM CPU venv is not built (make vllm)")
    for name in (BASE, TWIN, QWEN):
        launcher.up(stack_on_free_ports(name, settings), settings, with_rag=True)
    with Store(tmp_path / "wb.db") as store:
        prepared = create_run(store, "demo-en", [BASE, TWIN, QWEN], limit=QUESTIONS,
                              options=RunOptions(), settings=settings)
        progress = await execute(store, prepared)
        assert progress.done == 3 * QUESTIONS
        assert sum(progress.errors.values()) == 0
        card = scorecard_for_run(store, prepared.run_id, semantic=False)
        manifest = store.get_run(prepared.run_id)["manifest"]

    twin = card.comparison("f1", TWIN)
    assert twin.primary and twin.p_holm is not None
    assert not twin.significant, f"same weights called different: {twin}"
    qwen = card.comparison("f1", QWEN)
    assert qwen.significant and qwen.better == QWEN, f"Qwen not called better: {qwen}"
    assert qwen.diff is not None and qwen.diff > 0.2

    choice = recommend(card)
    first, *rest = choice.ranked
    assert first.stack == QWEN and first.group == 1
    # The twins share one tied group below Qwen.
    assert {r.stack for r in rest} == {BASE, TWIN}
    assert len({r.group for r in rest}) == 1 and rest[0].group == 2
    assert f"worse than {QWEN} by -" in rest[0].reason
    # Every local stack's CPU time and peak RSS were measured for its cost per answer.
    assert set(manifest["resources"]) == {BASE, TWIN, QWEN}
    assert all(card.summaries[s].cost is not None for s in (BASE, TWIN, QWEN))
