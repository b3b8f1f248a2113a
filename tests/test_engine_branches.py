"""No branch on an engine's name outside the engine adapters (issue #25, point 3).

Everything engine-specific is asked of the engine's adapter (`workbench/stacks/engines/`);
an external RAG backend is a kind of stack (`workbench.stacks.kinds`). This reads every
module of the package for the three shapes such a branch takes: a comparison of an
engine or kind with an engine's name (`stack.engine == "vllm"`, `engine in ("tgi", ...)`),
a table keyed by engine names (`{"vllm": ..., "llamacpp": ...}.get(stack.engine)`), and a
lookup by the engine field (`.get(stack.engine)`).
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.stacks.engines.registry import BUILTIN

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
ADAPTERS = PACKAGE / "stacks" / "engines"
NAMES = "|".join([*BUILTIN, "external"])
BRANCH = re.compile(
    rf"""\b(engine|kind)\b[^=!<>#]{{0,3}}(==|!=|\bin\b|\bnot in\b)[^#]*["']({NAMES})["']"""
    rf"""|["']({NAMES})["'][^#]*(==|!=|\bin\b)[^#]*\b(engine|kind)\b"""
    rf"""|(^\s*|\{{\s*)["']({NAMES})["']\s*:\s"""
    rf"""|\.get\([\w.]*\bengine\s*[,)]""")


def branches(text: str) -> list[tuple[int, str]]:
    """The lines of `text` that branch on an engine's name, with their numbers."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if BRANCH.search(line)]


def test_the_check_finds_each_shape_of_branch() -> None:
    found = branches('if stack.engine == "vllm":\n'
                     'if self.engine.kind != "ollama":\n'
                     'if stack.engine in ("openai", "external"):\n'
                     '    "llamacpp": ["/props"],\n'
                     'how = {"tgi": "/info"}.get(stack.engine, "its API")\n'
                     'ok = "tgi" == engine\n')
    assert [n for n, _ in found] == [1, 2, 3, 4, 5, 6]
    # Building a stack, naming an engine in words, or asking an adapter is no branch.
    assert branches('Stack(name="x", engine="llamacpp", launch="none")\n'
                    '"""llama.cpp and vllm both stream"""\n'
                    'if get_adapter(stack.engine).routes_by_model_name:\n') == []


def test_no_module_outside_the_adapters_branches_on_an_engine_name() -> None:
    found = [f"{path.relative_to(PACKAGE.parent)}:{n}: {line}"
             for path in sorted(PACKAGE.rglob("*.py")) if not path.is_relative_to(ADAPTERS)
             for n, line in branches(path.read_text(encoding="utf-8"))]
    assert found == [], "ask the engine's adapter instead:\n" + "\n".join(found)
