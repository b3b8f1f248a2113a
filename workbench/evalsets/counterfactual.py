"""Plant counterfactual passages in an eval set: for a sample of answerable questions, an
edited copy of the gold passage that states a false answer is added to the corpus, and the
question's `meta.counterfactual` names it (`{"passage_id", "false_answer"}`).

A stack that repeats the false answer took the planted passage's word for it; the report
counts those answers per stack (`workbench.report.faithfulness`). The edit is by rule, so
the set rebuilds byte for byte from the same source and seed:

- the answer's first number is shifted (1889 -> 1907, "27 days" -> "34 days");
- otherwise the answer is swapped for another sampled question's answer;
- every occurrence of the gold answer in the copy is replaced, and the copy must no longer
  contain the gold (nor the original the false answer), else the question is skipped.

    python -m workbench.evalsets.counterfactual SOURCE_DIR OUT_DIR [--n 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

_NUMBER = re.compile(r"\d+")


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _write(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def false_answer(gold: str, others: list[str], rng: random.Random) -> str:
    """A false answer of the same shape as `gold`: its numbers shifted, else another
    question's answer."""
    if _NUMBER.search(gold):
        shift = rng.randint(3, 29)
        # Only the first number: "1,200 euros" -> "4,200 euros", not "4,203 euros".
        return _NUMBER.sub(lambda m: str(int(m.group()) + shift), gold, count=1)
    # Another non-numeric answer: a name for a name, not "2.4 kilograms" for a portal.
    candidates = [o for o in others if o.casefold() != gold.casefold()
                  and not _NUMBER.search(o)]
    return rng.choice(candidates) if candidates else f"not {gold}"


def plant(source: Path, out: Path, *, n: int = 20, seed: int = 7, extra_passages: int = 20
          ) -> dict[str, int]:
    """Write `out/corpus.jsonl` and `out/questions.jsonl`: `n` questions (one per gold
    passage) with their gold passages, a planted copy of each, and `extra_passages` other
    passages of the source as ordinary distractors. Returns the counts."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    passages = {p["id"]: p for p in _read(source / "corpus.jsonl")}
    questions = [q for q in _read(source / "questions.jsonl")
                 if q.get("answerable", True) and q.get("answers") and q.get("gold_doc_ids")]
    rng.shuffle(questions)
    chosen: list[dict[str, Any]] = []
    used: set[str] = set()
    for q in questions:
        pid = q["gold_doc_ids"][0]
        if pid in used or pid not in passages or q["answers"][0] not in passages[pid]["text"]:
            continue
        chosen.append(q)
        used.add(pid)
        if len(chosen) == n:
            break
    others = [q["answers"][0] for q in chosen]
    corpus, out_questions = [], []
    for q in chosen:
        gold, pid = q["answers"][0], q["gold_doc_ids"][0]
        original = passages[pid]
        false = false_answer(gold, others, rng)
        edited = original["text"].replace(gold, false)
        golds = [a for a in q["answers"] if a]
        if any(a in edited for a in golds) or false in original["text"]:
            continue  # the edit would not make a clean counterfactual
        cf_id = f"{pid}-cf"
        corpus += [original, {"id": cf_id, "title": original.get("title", ""), "text": edited}]
        out_questions.append({
            "id": q["id"], "question": q["question"], "answers": q["answers"],
            "gold_doc_ids": [pid], "answerable": True, "lang": q.get("lang", "en"),
            "meta": {"counterfactual": {"passage_id": cf_id, "false_answer": false}},
        })
    rest = sorted(set(passages) - used)
    for pid in rng.sample(rest, min(extra_passages, len(rest))):
        corpus.append(passages[pid])
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "corpus.jsonl", corpus)
    _write(out / "questions.jsonl", out_questions)
    return {"questions": len(out_questions), "passages": len(corpus),
            "planted": len(out_questions)}


def main(argv: list[str] | None = None) -> None:
    """Command line: plant counterfactuals from SOURCE_DIR into OUT_DIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extra-passages", type=int, default=20)
    args = parser.parse_args(argv)
    counts = plant(args.source, args.out, n=args.n, seed=args.seed,
                   extra_passages=args.extra_passages)
    print(f"wrote {args.out}: {counts['questions']} questions, {counts['passages']} passages "
          f"({counts['planted']} planted)")


if __name__ == "__main__":
    main()
