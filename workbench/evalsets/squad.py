"""SQuAD-format eval sets: SQuAD 1.1/2.0 JSON files (and XQuAD, which uses the same format)
and hub data sets with SQuAD's columns (`google/xquad`, `rajpurkar/squad_v2`).

Each paragraph becomes a passage with the stable id `<title>#<paragraph index>` (the index
counts paragraphs of that title in file order), the id scheme of `../shared/evaldata`, so
a set converted there and the same set read here share passage ids. A question marked
`is_impossible` (or with no answers) is unanswerable: no answers, no gold passage; the
paragraph it was written against is kept as `source_doc_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.evalsets._files import parse_json
from workbench.evalsets._validate import check_question
from workbench.evalsets.errors import EvalSetError, ProblemLog
from workbench.records.evalset import Question
from workbench.records.passage import Passage

__all__ = ["guess_lang", "read_squad_json", "squad_from_rows"]


def guess_lang(name: str, default: str = "en") -> str:
    """The language tag in a SQuAD-style name (`xquad.ru.json`, config `xquad.ru`)."""
    match = re.search(r"\.([a-z]{2})(?:\.json)?$", name)
    return match.group(1) if match else default


class _Builder:
    """Collects passages and questions, deduplicating paragraphs and checking questions."""

    def __init__(self, where: str, lang: str, log: ProblemLog) -> None:
        self.where, self.lang, self.log = where, lang, log
        self.passages: dict[tuple[str, str], Passage] = {}
        self.per_title: dict[str, int] = {}
        self.questions: list[Question] = []
        self.question_ids: set[str] = set()

    def paragraph(self, title: str, context: str) -> str:
        """The passage id for this paragraph, adding it the first time it is seen."""
        key = (title, context)
        if key not in self.passages:
            index = self.per_title.get(title, 0)
            self.per_title[title] = index + 1
            display = title.replace("_", " ")  # Wikipedia titles in SQuAD use underscores
            self.passages[key] = Passage(id=f"{title}#{index}", title=display, text=context)
        return self.passages[key].id

    def question(self, qa: Mapping[str, Any], answers: list[str], doc_id: str, at: str) -> None:
        """Add one question; `at` names where it is in the source (for errors)."""
        impossible = bool(qa.get("is_impossible", False)) or not answers
        record: dict[str, object] = {
            "id": qa.get("id"),
            "question": qa.get("question"),
            "answers": [] if impossible else list(dict.fromkeys(answers)),
            "gold_doc_ids": [] if impossible else [doc_id],
            "answerable": not impossible,
            "lang": self.lang,
        }
        if impossible:
            record["source_doc_id"] = doc_id
            plausible = _answer_texts(qa.get("plausible_answers"))
            if plausible:
                record["meta"] = {"plausible_answers": plausible}
        if qa.get("is_impossible") is False and not answers:
            self.log.add(self.where, None, f"{at}.answers", "answerable question has no answers")
            return
        problems = check_question(record)
        for key, problem in problems:
            self.log.add(self.where, None, f"{at}.{key}", problem)
        if problems:
            return
        qid = str(record["id"])
        if qid in self.question_ids:
            self.log.add(self.where, None, f"{at}.id", f"duplicate id {qid!r}")
            return
        self.question_ids.add(qid)
        self.questions.append(Question.model_validate(record))

    def result(self) -> tuple[list[Passage], list[Question]]:
        """The passages and questions, or an `EvalSetError` listing every problem."""
        if not self.questions and not self.log.total:
            self.log.add(self.where, None, None, "no questions")
        self.log.raise_if_any()
        return list(self.passages.values()), self.questions


def _answer_texts(answers: object) -> list[str]:
    # SQuAD JSON: [{"text", "answer_start"}]; hub rows: {"text": [...], "answer_start": [...]}.
    if isinstance(answers, Mapping):
        answers = answers.get("text")
    if not isinstance(answers, list):
        return []
    texts = [a.get("text") if isinstance(a, Mapping) else a for a in answers]
    return [t for t in texts if isinstance(t, str) and t.strip()]


def read_squad_json(path: Path, lang: str | None = None) -> tuple[list[Passage], list[Question]]:
    """Passages and questions of a SQuAD-format JSON file (`{"data": [{"title", ...}]}`)."""
    data = path.read_bytes()
    try:
        doc = parse_json(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise EvalSetError.at(path, "invalid UTF-8", data[: e.start].count(b"\n") + 1) from e
    except ValueError as e:
        line = getattr(e, "lineno", None)
        raise EvalSetError.at(path, f"malformed JSON: {getattr(e, 'msg', e)}", line) from e
    except RecursionError as e:
        raise EvalSetError.at(path, "malformed JSON: nested too deeply") from e
    articles = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(articles, list):
        raise EvalSetError.at(path, 'not SQuAD format: expected {"data": [articles]}')
    log = ProblemLog()
    build = _Builder(str(path), lang or guess_lang(path.name), log)
    for i, article in enumerate(articles):
        _read_article(build, article, f"data[{i}]")
    return build.result()


def _read_article(build: _Builder, article: object, at: str) -> None:
    if not isinstance(article, dict):
        build.log.add(build.where, None, at, "expected an object")
        return
    title, paragraphs = article.get("title"), article.get("paragraphs")
    if not isinstance(title, str) or not title.strip():
        build.log.add(build.where, None, f"{at}.title", "expected a non-empty string")
        return
    if not isinstance(paragraphs, list):
        build.log.add(build.where, None, f"{at}.paragraphs", "expected a list")
        return
    for j, paragraph in enumerate(paragraphs):
        p_at = f"{at}.paragraphs[{j}]"
        context = paragraph.get("context") if isinstance(paragraph, dict) else None
        qas = paragraph.get("qas") if isinstance(paragraph, dict) else None
        if not isinstance(context, str) or not context.strip():
            build.log.add(build.where, None, f"{p_at}.context", "expected a non-empty string")
            continue
        if not isinstance(qas, list):
            build.log.add(build.where, None, f"{p_at}.qas", "expected a list")
            continue
        doc_id = build.paragraph(title, context)
        for k, qa in enumerate(qas):
            if not isinstance(qa, dict):
                build.log.add(build.where, None, f"{p_at}.qas[{k}]", "expected an object")
                continue
            build.question(qa, _answer_texts(qa.get("answers")), doc_id, f"{p_at}.qas[{k}]")


def squad_from_rows(
    rows: Iterable[Mapping[str, Any]], where: str, lang: str = "en"
) -> tuple[list[Passage], list[Question]]:
    """Passages and questions from flat SQuAD rows (`id`, `title`, `context`, `question`,
    `answers: {"text": [...]}`), the layout of SQuAD-style sets on the Hugging Face hub."""
    log = ProblemLog()
    build = _Builder(where, lang, log)
    for n, row in enumerate(rows):
        title, context = row.get("title") or "untitled", row.get("context")
        if not isinstance(context, str) or not context.strip():
            log.add(where, n + 1, "context", "expected a non-empty string")
            continue
        doc_id = build.paragraph(str(title), context)
        build.question(row, _answer_texts(row.get("answers")), doc_id, f"row {n + 1}")
    return build.result()
