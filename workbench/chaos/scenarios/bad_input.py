"""(f1)-(f12): hostile eval sets and recipes through the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from workbench.chaos.lab import Lab
from workbench.chaos.report import ScenarioResult
from workbench.chaos.scenarios._checks import expect_refusal, seed, tail
from workbench.stacks.process import free_port
from workbench.store.inspect import run_statuses

#: A tiny valid eval set: every fuzzed folder is this with one thing broken.
_PASSAGES: list[dict[str, object]] = [
    {"id": "p1", "title": "Leave", "text": "Full-time staff get 27 days of leave."},
    {"id": "p2", "title": "VPN", "text": "The VPN is called Keelhaul."},
]
_QUESTIONS: list[dict[str, object]] = [
    {"id": "q1", "question": "How many days of leave?", "answers": ["27 days"],
     "gold_doc_ids": ["p1"], "answerable": True, "lang": "en"},
    {"id": "q2", "question": "What is the VPN called?", "answers": ["Keelhaul"],
     "gold_doc_ids": ["p2"], "answerable": True, "lang": "en"},
]


@dataclass
class BadInput:
    """One hostile input, the CLI command that meets it, and what its error must name."""

    name: str
    fault: str
    argv: list[str]
    #: Substrings the error must hold: the file, and its line or field where there is one.
    expect: list[str]
    env: dict[str, str] = field(default_factory=dict)
    #: Files a shell interpreting the input would create: they must not exist after.
    markers: list[Path] = field(default_factory=list)


def _line(record: Mapping[str, object]) -> bytes:
    return json.dumps(record).encode()


def _evalset(folder: Path, corpus: list[bytes] | None = None,
             questions: list[bytes] | None = None) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    files = (folder / "corpus.jsonl", folder / "questions.jsonl")
    for path, lines, base in zip(files, (corpus, questions), (_PASSAGES, _QUESTIONS),
                                 strict=True):
        chosen = [_line(r) for r in base] if lines is None else lines
        path.write_bytes(b"".join(x + b"\n" for x in chosen))
    return files


def _recipe(lab: Lab, folder: Path, name: str, **changes: object) -> Path:
    """A copy of stack A's recipe called `name` with top-level `changes`, alone with a copy
    of stack B's in its own stacks folder (a broken recipe must not break the lab's)."""
    folder.mkdir(parents=True)
    shutil.copy(lab.stacks_dir / "stack-b.yaml", folder / "stack-b.yaml")
    data = json.loads((lab.stacks_dir / "stack-a.yaml").read_text())
    data.update(name=name, **changes)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(data))  # JSON is valid YAML
    return path


def _bad_inputs(lab: Lab, root: Path, db: Path) -> list[BadInput]:
    """Every hostile input, written under `root`; the runs would store into `db`."""
    def run(evalset: Path | str, stacks: str = "stack-a,stack-b") -> list[str]:
        return ["run", "--evalset", str(evalset), "--stacks", stacks, "--limit", "2",
                "--warmup", "0", "--no-report", "--db", str(db)]

    cases: list[BadInput] = []
    good_c, good_q = _line(_PASSAGES[0]), _line(_QUESTIONS[0])
    c, q = _evalset(root / "malformed", questions=[good_q, b'{"id": "q2", "question": "x?"'])
    cases.append(BadInput("f1. eval set: malformed JSON", "questions.jsonl line 2 cut short",
                          run(c.parent), [f"{q}:2", "malformed JSON"]))
    c, q = _evalset(root / "types", questions=[
        _line({**_QUESTIONS[0], "answers": "27 days", "answerable": "yes"})])
    cases.append(BadInput("f2. eval set: wrong types", 'answers: "27 days", answerable: "yes"',
                          run(c.parent), [f"{q}:1: answers", f"{q}:1: answerable"]))
    c, q = _evalset(root / "utf8", corpus=[good_c, b'{"id": "p2", "text": "caf\xe9 \xff\xfe"}'])
    cases.append(BadInput("f3. eval set: invalid UTF-8", "corpus.jsonl line 2: bytes ff fe",
                          run(c.parent), [f"{c}:2", "invalid UTF-8"]))
    huge = _line({"id": "p3", "text": "x" * (4 << 20)})
    c, q = _evalset(root / "huge", corpus=[good_c, _line(_PASSAGES[1]), huge])
    cases.append(BadInput("f4. eval set: huge line", "corpus.jsonl line 3 is 4 MiB",
                          run(c.parent), [f"{c}:3", "line longer than"]))
    c, q = _evalset(root / "dupes", questions=[good_q, _line({**_QUESTIONS[1], "id": "q1"})])
    cases.append(BadInput("f5. eval set: duplicate ids", "questions q1 twice",
                          run(c.parent), [f"{q}:2: id", "duplicate id"]))
    c, q = _evalset(root / "gold", questions=[_line({**_QUESTIONS[0], "gold_doc_ids": ["p9"]})])
    cases.append(BadInput("f6. eval set: unknown gold id", "gold_doc_ids: [p9], no such passage",
                          run(c.parent), [f"{q}:1: gold_doc_ids", "'p9'"]))
    _evalset(root / "outside")
    c, q = _evalset(root / "sets" / "traversal")
    c.unlink()
    c.symlink_to(Path("..") / ".." / "outside" / "corpus.jsonl")
    cases.append(BadInput("f7. eval set: ../ traversal", "corpus.jsonl -> ../../outside/...",
                          run(c.parent), [str(c), "outside the eval set folder"]))
    secret = root / "secret.jsonl"
    secret.write_bytes(_line({"id": "s1", "question": "the admin password?",
                              "answerable": True}) + b"\n")
    c, q = _evalset(root / "absolute")
    q.unlink()
    q.symlink_to(secret.resolve())
    cases.append(BadInput("f8. eval set: absolute link", f"questions.jsonl -> {secret.name} "
                          "(absolute path)", run(c.parent), [str(q), "outside the eval set"]))

    def stacks_env(folder: Path) -> dict[str, str]:
        return {"WORKBENCH_STACKS_DIR": str(folder),
                "WORKBENCH_STATE_DIR": str(folder / "state")}

    folder = root / "stacks-unknown-key"
    recipe = _recipe(lab, folder, "typo", enigne_args=["--verbose"])
    cases.append(BadInput("f9. recipe: unknown key", "enigne_args (a typo of engine_args)",
                          run("demo-en", "typo,stack-b"),
                          [str(recipe), "field enigne_args: unknown key"], stacks_env(folder)))
    folder = root / "stacks-bad-port"
    ports = json.loads((lab.stacks_dir / "stack-a.yaml").read_text())["ports"]
    recipe = _recipe(lab, folder, "lowport", ports={**ports, "rag": 80})
    cases.append(BadInput("f10. recipe: bad port", "ports.rag: 80 (below 1024)",
                          run("demo-en", "lowport,stack-b"), [str(recipe), "field ports.rag"],
                          stacks_env(folder)))
    folder = root / "stacks-model-name"
    marker = root / "pwned-by-model-name"
    model = json.loads((lab.stacks_dir / "stack-a.yaml").read_text())["model"]
    recipe = _recipe(lab, folder, "shellname",
                     model={**model, "name": f"smol; touch {marker} #"})
    cases.append(BadInput("f11. recipe: shell in model name", "model.name: 'smol; touch ... #'",
                          run("demo-en", "shellname,stack-b"),
                          [str(recipe), "field model.name"], stacks_env(folder), [marker]))
    folder = root / "stacks-model-path"
    marker = root / "pwned-by-model-path"
    gguf = f"{root}/m$(touch {marker});`touch {marker}`|touch {marker}.gguf"
    recipe = _recipe(lab, folder, "shellpath", model={**model, "gguf": gguf})
    spare = json.loads((folder / "stack-b.yaml").read_text())
    spare.update(name="spare")
    (folder / "spare.yaml").write_text(json.dumps(spare))
    up = ["up", "--a", "shellpath", "--b", "spare", "--a-port", str(free_port()),
          "--b-port", str(free_port()), "--no-rag"]
    cases.append(BadInput("f12. recipe: shell in model path",
                          "model.gguf: 'm$(touch ..);`touch ..`|touch ...', then `workbench up`",
                          up, [str(recipe), "field model.gguf", gguf, "does not exist"],
                          stacks_env(folder), [marker]))
    return cases


def bad_input(lab: Lab) -> list[ScenarioResult]:
    """(f) hostile eval sets and recipes through the real CLI: each is refused with an
    error naming the file (and its line or field), no traceback, nothing a shell would
    run is run, and a database with a stored run is left exactly as it was."""
    root = lab.root / "bad-input"
    db = lab.root / "f.db"
    seed(db)
    runs_before = run_statuses(db)
    results: list[ScenarioResult] = []
    for case in _bad_inputs(lab, root, db):
        result = ScenarioResult(case.name, case.fault)

        def attempt(case: BadInput = case) -> subprocess.CompletedProcess[str]:
            return lab.workbench(*case.argv, env=case.env, timeout_s=120)

        out = expect_refusal(lab, db, result, attempt, names_db=False)
        for want in case.expect:
            result.check(want in out, f"the error does not hold {want!r}: {tail(out, 300)}")
        for marker in case.markers:
            result.check(not marker.exists(), f"a shell ran: {marker} exists")
        result.check(run_statuses(db) == runs_before,
                     "the runs table changed (a run was created or updated)")
        result.completed = result.completed and result.failure is None
        detail = next((ln.strip() for ln in out.splitlines() if any(
            w in ln for w in case.expect[1:] or case.expect)), "")
        result.notes = [detail.replace(str(root) + "/", "")[:90]]
        results.append(result)
    return results
