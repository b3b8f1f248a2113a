"""Eval sets: a corpus of passages and questions with gold answers and gold passage ids.

`load_evalset("demo-en")` loads a shipped set; a folder, a SQuAD `.json` file or a hub id
works too. Problems raise `EvalSetError`, which lists every one with its file and line.
The model itself (`EvalSet`, `Question`, `Passage`) lives on the ground floor,
`workbench.records.evalset`.
"""

from workbench.evalsets.digest import evalset_digest
from workbench.evalsets.errors import EvalSetError, Problem
from workbench.evalsets.loader import HubRef, load_evalset, resolve_ref, shipped_evalsets
from workbench.evalsets.squad import read_squad_json

__all__ = [
    "EvalSetError",
    "HubRef",
    "Problem",
    "evalset_digest",
    "load_evalset",
    "read_squad_json",
    "resolve_ref",
    "shipped_evalsets",
]
