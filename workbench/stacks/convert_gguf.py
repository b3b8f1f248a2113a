"""Convert a GGUF to a Hugging Face folder that vLLM on CPU can serve (bf16 safetensors).

Standalone script: it runs under the vLLM engine venv's python (transformers, gguf,
accelerate live there, not in the workbench venv), so it imports nothing from `workbench`:

    <vllm python> convert_gguf.py SRC.gguf DEST_DIR

vLLM can no longer load GGUF on CPU (docs/architecture.md), so the weights are dequantized once.
The folder is written to `DEST_DIR.tmp-<pid>` and renamed into place, so a crash or a
concurrent conversion never leaves a half-written folder where the launcher looks.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Conversion is offline by contract: never reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

EOS_TOKEN = "<|im_end|>"  # noqa: S105 - ChatML end of turn; the GGUF's own eos is <|endoftext|>


def convert(src: Path, dest: Path) -> None:
    """Dequantize `src` (a GGUF) into an HF folder at `dest` (atomic)."""
    # why here: torch takes seconds to import; transformers takes seconds to import
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model = AutoModelForCausalLM.from_pretrained(
        str(src.parent),
        gguf_file=src.name,
        quantization_config=GgufConfig(dequantize=True),
        dtype=torch.bfloat16,
    )
    tokenizer = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    # The quantizer would make save_pretrained write a quantized config vLLM rejects.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    eos_id = tokenizer.convert_tokens_to_ids(EOS_TOKEN)
    if isinstance(eos_id, int) and eos_id != tokenizer.unk_token_id:
        model.generation_config.eos_token_id = eos_id
        model.config.eos_token_id = eos_id
        tokenizer.eos_token = EOS_TOKEN
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    (tmp / "SOURCE_GGUF").write_text(f"{src}\n", encoding="utf-8")
    try:
        tmp.rename(dest)
    except OSError:
        # Another conversion won the race; its folder is as good as ours.
        if not (dest / "config.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> int:
    """`convert_gguf.py SRC.gguf DEST_DIR`."""
    if len(argv) != 2:
        print("usage: convert_gguf.py SRC.gguf DEST_DIR", file=sys.stderr)
        return 2
    src, dest = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    if (dest / "config.json").is_file():
        print(f"already converted: {dest}")
        return 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    convert(src, dest)
    print(f"converted {src} -> {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
