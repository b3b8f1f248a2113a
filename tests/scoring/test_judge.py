"""The LLM judge: claim splitting, reply parsing, the prompt and schema it sends, the
sample it judges, and the verdicts it caches, through the real `Judge` and `openai` client
against a scripted judge server on loopback (the real llama.cpp judge is in
tests/scoring/test_local_judge.py, slow-marked)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.report.synthetic import question, record
from workbench.records.evalset import Question
from workbench.records.responses import RetrievedSource
from workbench.scoring import JUDGE_PROMPT, Judge, judge_correctness, judge_faithfulness
from workbench.scoring.base import Sample
from workbench.scoring.claims import MAX_CLAIMS, split_claims, verdict_schema
from workbench.scoring.judge import NOT_JUDGED, Grade, faithfulness, judge_relevance, parse_grade
from workbench.scoring.pairwise import PairVerdict, PairwiseJudge
from workbench.store.db import Store
from workbench.store.verdicts import VerdictStore

CONTEXT = "Paris is the capital of France. The Eiffel Tower was built in 1889."


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
def test_parse_grade_without_claims(reply: str, grade: Grade) -> None:
    assert parse_grade(reply) == grade


def test_parse_grade_per_claim() -> None:
    claims = ["Paris is the capital.", "It has 90 million people."]
    g = parse_grade('{"correct": true, "relevant": true, "supported": [true, false]}', claims)
    assert (g.correct, g.relevant, g.faithful, g.faithfulness) == (True, True, False, 0.5)
    # A verdict list of the wrong length is not guessed at: faithfulness is unknown.
    short = parse_grade('{"correct": true, "relevant": true, "supported": [true]}', claims)
    assert short.supported == () and short.faithfulness is None
    # An answer without claims (a refusal) is faithful whatever the judge says.
    assert parse_grade('{"relevant": true, "supported": []}', []).faithfulness == 1.0


def test_split_claims() -> None:
    assert split_claims("Paris is the capital. It was founded in 250 BC!") == [
        "Paris is the capital.", "It was founded in 250 BC!"]
    assert split_claims("- first point\n- second point; and a third") == [
        "first point", "second point", "and a third"]
    assert split_claims("The documents do not say.") == []  # a refusal claims nothing
    assert split_claims("   ") == []
    assert len(split_claims(" ".join(f"Claim {i}." for i in range(20)))) == MAX_CLAIMS


def test_schema_demands_one_verdict_per_claim() -> None:
    schema = verdict_schema(3, with_gold=True)
    assert schema["required"] == ["correct", "relevant", "supported"]
    assert schema["properties"]["supported"]["minItems"] == 3
    assert schema["properties"]["supported"]["maxItems"] == 3
    assert "correct" not in verdict_schema(1, with_gold=False)["properties"]


def test_manifest_and_prompt() -> None:
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="judge-m", api_key="secret",
                  digest_of_model="abc123", sample=20, seed=7)
    m = judge.manifest()
    assert (m["model"], m["digest"], m["prompt"], m["sample"], m["seed"]) == (
        "judge-m", "abc123", JUDGE_PROMPT, 20, 7)
    assert len(m["prompt_digest"]) == 64 and m["output"] == "json_schema"
    assert "secret" not in json.dumps(m)
    r = record("q", "A", "Paris. It is in Spain.")
    r.sources = [RetrievedSource(doc_id="d", rank=1, text=CONTEXT)]
    text = judge.render(Sample(question("q", ["Paris"]), r))
    assert CONTEXT in text and "Gold answer(s): Paris" in text
    assert "1. Paris.\n2. It is in Spain." in text  # the claims, numbered
    unanswerable = judge.render(Sample(question("u", answerable=False), r))
    assert "the documents do not contain the answer" in unanswerable


def test_failed_requests_are_wrong_without_a_call() -> None:
    # The endpoint is unreachable: a call would raise, so none must be made.
    judge = Judge(base_url="http://127.0.0.1:1/v1", model="m")
    failed = Sample(question("q"), record("q", "A", "x", status="error"))
    assert judge_correctness(judge)([failed]) == [0.0]
    # A failed request makes no claim: not scored for faithfulness (it is in the error rate).
    assert judge_faithfulness(judge)([failed]) == [None]
    assert judge.stats.calls == 0


class RuleJudgeHandler(BaseHTTPRequestHandler):
    """A judge model on loopback that grades by rule, so the test knows every verdict.

    It speaks the OpenAI chat completions API as documented (platform.openai.com/docs/
    api-reference/chat/create: `POST /v1/chat/completions` with `model`, `messages`,
    `response_format` {"type": "json_schema", "json_schema": {"schema": ...}}, and a
    `chat.completion` object back), which is all `Judge` uses. The real llama.cpp judge is
    tested too (slow); a real small model's verdicts cannot be predicted by a test. The rule
    reads the fields of `JUDGE_PROMPT`: correct = a gold alias is in the answer (a refusal,
    when there is no gold); supported = the claim is in the retrieved context; relevant =
    the answer does not start with "Off topic". Pairwise prompts get "1" when
    `always_first`, else the answer holding the gold.
    """

    requests: ClassVar[list[dict[str, Any]]] = []
    always_first: ClassVar[bool] = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("Two assistants"):
            verdict = json.dumps({"better": self._pairwise(prompt)})
        else:
            verdict = json.dumps(self._grade(prompt, body["response_format"]))
        self._reply(200, {
            "id": "chatcmpl-rule", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": verdict}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    def _pairwise(self, prompt: str) -> str:
        if type(self).always_first:
            return "1"
        gold = re.search(r"^Gold answer\(s\): (.*)$", prompt, re.M)
        one = re.search(r"^Answer 1: (.*)$", prompt, re.M)
        two = re.search(r"^Answer 2: (.*)$", prompt, re.M)
        assert gold and one and two, prompt
        g = gold.group(1).casefold()
        has = [g in one.group(1).casefold(), g in two.group(1).casefold()]
        return "tie" if has[0] == has[1] else "1" if has[0] else "2"

    def _grade(self, prompt: str, fmt: dict[str, Any]) -> dict[str, Any]:
        gold = re.search(r"^Gold answer\(s\): (.*)$", prompt, re.M)
        context = re.search(r"^Retrieved context:\n(.*?)\n\nAnswer to grade:", prompt,
                            re.M | re.S)
        answer = re.search(r"^Answer to grade: (.*?)\n\nClaims in the answer:\n(.*?)\n\n"
                           r"Decide", prompt, re.M | re.S)
        assert gold and context and answer, prompt
        schema = fmt["json_schema"]["schema"]
        said = answer.group(1).strip().casefold()
        claims = [re.sub(r"^\d+\. ", "", c) for c in answer.group(2).splitlines()
                  if re.match(r"^\d+\. ", c)]
        # The schema asks for exactly one verdict per claim the prompt lists.
        assert schema["properties"]["supported"]["maxItems"] == len(claims)
        refused = "do not say" in said
        out: dict[str, Any] = {}
        if "correct" in schema["properties"]:
            golds = [] if gold.group(1).startswith("(none") else gold.group(1).split(" | ")
            out["correct"] = any(g.casefold() in said for g in golds) if golds else refused
        out["relevant"] = not said.startswith("off topic")
        out["supported"] = [c.casefold().rstrip(".") in context.group(1).casefold()
                            for c in claims]
        return out

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
    RuleJudgeHandler.always_first = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuleJudgeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _answered(qid: str, answer: str, *, answerable: bool = True, side: str = "A",
              q: Question | None = None) -> Sample:
    r = record(qid, side, answer)
    r.sources = [RetrievedSource(doc_id="d", rank=1, text=CONTEXT)]
    return Sample(q or question(qid, ["Paris"], answerable=answerable), r)


def test_judge_scores_are_its_verdicts(rule_judge: str) -> None:
    judge = Judge(base_url=rule_judge, model="rule-judge")
    samples = [
        _answered("right", "Paris is the capital of France."),  # correct and faithful
        _answered("wrong", "Berlin is the capital of France."),  # neither
        _answered("half", "Paris is the capital of France. It has 90 million people."),
        _answered("refusal", "The documents do not say.", answerable=False),  # claims none
        _answered("off", "Off topic. The Eiffel Tower was built in 1889."),
        Sample(question("failed", ["Paris"]), record("failed", "A", "", status="error")),
    ]
    assert judge_correctness(judge)(samples) == [1.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    # Faithfulness is over answers that make claims: the refusal and the failure have none
    # (a refusal used to score 1.0, so a stack that always refused looked faithful).
    assert faithfulness(judge)(samples) == [1.0, 0.0, 0.5, None, 0.5, None]
    assert judge_faithfulness(judge)(samples) == [1.0, 0.0, 0.0, None, 0.0, None]
    assert judge_relevance(judge)(samples) == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    # One call per successful answer, shared by every scorer; temperature 0, the model named,
    # the reply constrained by a JSON schema.
    sent = RuleJudgeHandler.requests
    assert len(sent) == 5 and judge.stats.calls == 5
    assert {b["model"] for b in sent} == {"rule-judge"} and {b["temperature"] for b in sent} == {0}
    assert {b["response_format"]["type"] for b in sent} == {"json_schema"}


def test_questions_without_gold_are_not_judged_for_correctness(rule_judge: str) -> None:
    judge = Judge(base_url=rule_judge, model="rule-judge")
    own = Question(id="own", question="What is the capital?")  # a questions-only set
    [g] = judge.grade([_answered("own", "Paris is the capital of France.", q=own)])
    assert g.correct is None and g.faithfulness == 1.0 and g.relevant is True
    assert "Gold answer(s): (not given)" in RuleJudgeHandler.requests[0]["messages"][0]["content"]


def test_a_seeded_sample_of_the_same_questions_for_every_stack(rule_judge: str) -> None:
    judge = Judge(base_url=rule_judge, model="rule-judge", sample=4, seed=3)
    ids = [f"q{i}" for i in range(10)]
    samples = [_answered(q, "Paris is the capital of France.", side=s) for s in "AB"
               for q in ids]
    grades = judge.grade(samples)
    judged = {(s.response.stack, s.question.id) for s, g in zip(samples, grades, strict=True)
              if g is not NOT_JUDGED}
    per_stack = {stack: {q for st, q in judged if st == stack} for stack in ("stack-a", "stack-b")}
    assert len(per_stack["stack-a"]) == 4 and per_stack["stack-a"] == per_stack["stack-b"]
    # The same seed picks the same questions again; the values of the others are None.
    assert Judge(base_url=rule_judge, model="x", sample=4, seed=3).sampled(samples) == \
        per_stack["stack-a"]
    assert faithfulness(judge)(samples).count(None) == 12
    # Both stacks gave the same answer with the same context: one verdict serves both.
    assert judge.stats.calls == 4


def test_verdicts_are_cached_in_the_store(rule_judge: str, tmp_path: Path) -> None:
    samples = [_answered("a", "Paris is the capital of France."),
               _answered("b", "Berlin is the capital of France.")]
    with Store(tmp_path / "wb.db") as store:
        first = Judge(base_url=rule_judge, model="rule", cache=VerdictStore(store))
        grades = first.grade(samples)
        assert first.stats.calls == 2 and VerdictStore(store).count(first.digest) == 2
    with Store(tmp_path / "wb.db") as store:
        again = Judge(base_url=rule_judge, model="rule", cache=VerdictStore(store))
        assert again.grade(samples) == grades
        assert (again.stats.calls, again.stats.cache_hits) == (0, 2)
        # Another answer is another verdict; so is another judge model.
        again.grade([_answered("a", "Paris, in France.")])
        assert again.stats.calls == 1
        other = Judge(base_url=rule_judge, model="rule-2", cache=VerdictStore(store))
        other.grade(samples)
        assert other.stats.calls == 2
    assert len(RuleJudgeHandler.requests) == 5


def test_pairwise_swaps_the_order_and_finds_position_bias(rule_judge: str) -> None:
    judge = Judge(base_url=rule_judge, model="rule")
    base = _answered("q", "Paris.")
    cand = _answered("q", "Berlin.", side="B")
    fair = PairwiseJudge(judge).compare(base, cand)
    assert fair == PairVerdict("1", "2") and fair.winner == "baseline"
    assert not fair.position_bias
    # Both orders were asked: the baseline's answer came first once, second once.
    firsts = [re.search(r"Answer 1: (.*)", b["messages"][0]["content"]).group(1)  # type: ignore[union-attr]
              for b in RuleJudgeHandler.requests]
    assert firsts == ["Paris.", "Berlin."]
    RuleJudgeHandler.always_first = True
    biased = PairwiseJudge(judge).compare(_answered("r", "Paris."),
                                          _answered("r", "Berlin.", side="B"))
    assert biased.position_bias and biased.winner is None
