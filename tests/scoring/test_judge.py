"""The optional LLM judge: reply parsing, the prompt it sends, and the scores it gives,
through the real `Judge` and `openai` client against a judge server on loopback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.report.synthetic import question, record
from workbench.scoring import JUDGE_PROMPT, Judge, judge_correctness, judge_faithfulness
from workbench.scoring.base import Sample
from workbench.scoring.judge import Grade, parse_grade
from workbench.store.records import RetrievedSource


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ('{"correct": true, "faithful": false}', Grade(True, False)),
        ('```json\n{"correct": false, "faithful": true}\n```', Grade(False, True)),
        ("Correct: yes. Faithful: no.", Grade(True, False)),
        ("I cannot grade this.", Grade(None, None)),
        ('{"correct": "maybe"}', Grade(None, None)),
    ],
)
def test_parse_grade(reply: str, grade: Grade) -> None:
    assert parse_grade(reply) == grade


def test_manifest_and_prompt() -> None:
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="judge-m", api_key="secret")
    assert judge.manifest() == {"model": "judge-m", "base_url": "http://127.0.0.1:1/v1",
                                "prompt": JUDGE_PROMPT}
    assert "secret" not in str(judge.manifest())
    r = record("q", "A", "Paris")
    r.sources = [RetrievedSource(doc_id="d", rank=1, text="Paris is the capital of France.")]
    text = judge.render(Sample(question("q", ["Paris"]), r))
    assert "Paris is the capital of France." in text and "Gold answer(s): Paris" in text
    unanswerable = judge.render(Sample(question("u", answerable=False), r))
    assert "the documents do not contain the answer" in unanswerable


def test_failed_requests_are_wrong_without_a_call() -> None:
    # The endpoint is unreachable: a call would raise, so none must be made.
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="m")
    failed = Sample(question("q"), record("q", "A", "x", status="error"))
    assert judge_correctness(judge)([failed]) == [0.0]
    assert judge_faithfulness(judge)([failed]) == [0.0]


class RuleJudgeHandler(BaseHTTPRequestHandler):
    """A judge model on loopback that grades by rule, so the test knows every verdict.

    It speaks the OpenAI chat completions API as documented (platform.openai.com/docs/
    api-reference/chat/create: `POST /v1/chat/completions` with `model`, `messages`, a
    `chat.completion` object with `choices[0].message.content` back), which is all
    `Judge` uses. A real model cannot stand in: the one that runs here (SmolLM2-135M)
    gives verdicts no test can predict. The rule reads the fields of `JUDGE_PROMPT`:
    correct = a gold alias is in the answer (a refusal, when there is no gold); faithful =
    the answer is in the retrieved context (or is a refusal). Replies come in a code fence
    with text around them, as chat models write them.
    """

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        if self.path != "/v1/chat/completions":
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        prompt = body["messages"][-1]["content"]
        gold = re.search(r"^Gold answer\(s\): (.*)$", prompt, re.M)
        context = re.search(r"^Retrieved context:\n(.*?)\n\nAnswer to grade:", prompt,
                            re.M | re.S)
        answer = re.search(r"^Answer to grade: (.*?)\n\nDecide", prompt, re.M | re.S)
        assert gold and context and answer, prompt
        said = answer.group(1).strip().rstrip(".").casefold()
        refused = "do not say" in said
        golds = [] if gold.group(1).startswith("(none") else gold.group(1).split(" | ")
        correct = any(g.casefold() in said for g in golds) if golds else refused
        faithful = refused or said in context.group(1).casefold()
        verdict = json.dumps({"correct": correct, "faithful": faithful})
        self._reply(200, {
            "id": "chatcmpl-rule", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": f"Here is my grade:\n```json\n{verdict}\n```"}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _reply(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest's output to the assertions


@pytest.fixture
def rule_judge() -> Iterator[str]:
    """The rule judge on a free loopback port; yields its OpenAI base URL."""
    RuleJudgeHandler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuleJudgeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _answered(qid: str, answer: str, *, answerable: bool = True) -> Sample:
    r = record(qid, "A", answer)
    r.sources = [RetrievedSource(doc_id="d", rank=1, text="Paris is the capital of France.")]
    return Sample(question(qid, ["Paris"], answerable=answerable), r)


def test_judge_scores_are_its_verdicts(rule_judge: str) -> None:
    judge = Judge(base_url=rule_judge, model="rule-judge")
    samples = [
        _answered("right", "Paris is the capital of France."),  # correct and faithful
        _answered("wrong", "Berlin"),  # neither
        _answered("unsupported", "Paris, since 1871"),  # correct, not in the context
        _answered("refusal", "The documents do not say.", answerable=False),  # both
        Sample(question("failed", ["Paris"]), record("failed", "A", "", status="error")),
    ]
    correct = judge_correctness(judge)(samples)
    faithful = judge_faithfulness(judge)(samples)
    assert correct == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert faithful == [1.0, 0.0, 0.0, 1.0, 0.0]
    # One call per successful answer, shared by both scorers; temperature 0, the model named.
    sent = RuleJudgeHandler.requests
    assert len(sent) == 4
    assert {b["model"] for b in sent} == {"rule-judge"} and {b["temperature"] for b in sent} == {0}
    assert any("Gold answer(s): (none" in b["messages"][0]["content"] for b in sent)

