"""Hand-made questions and stored responses for scorecard tests (no stack involved)."""

from __future__ import annotations

from workbench.records.evalset import Question
from workbench.records.responses import RequestTiming, ResponseRecord, RetrievedSource


def question(qid: str, answers: list[str] | None = None, *, answerable: bool = True,
             gold_doc_ids: list[str] | None = None, lang: str = "en") -> Question:
    """A question; answerable ones default to gold passage `<qid>-doc`."""
    return Question(
        id=qid, question=f"Question {qid}?", lang=lang, answerable=answerable,
        answers=(answers or ["gold"]) if answerable else [],
        gold_doc_ids=(gold_doc_ids or [f"{qid}-doc"]) if answerable else [],
    )


def record(qid: str, side: str, answer: str, *, ttft: float = 0.2, itl: float = 0.02,
           tokens: int = 10, status: str = "ok", docs: list[str] | None = None,
           start: float = 100.0, attempt: int = 1) -> ResponseRecord:
    """A response whose raw timestamps give exactly this TTFT, ITL and token count."""
    ok = status == "ok"
    times = [start + ttft + i * itl for i in range(tokens)] if ok else []
    return ResponseRecord(
        run_id="run-1", question_id=qid, stack=f"stack-{side.lower()}",
        attempt=attempt, status=status, error=None if ok else "boom",  # type: ignore[arg-type]
        answer=answer if ok else "",
        sources=[RetrievedSource(doc_id=d, rank=i + 1) for i, d in enumerate(docs or [])],
        timing=RequestTiming(
            request_start=start, first_token=times[0] if ok else None,
            last_token=times[-1] if ok else None, request_end=(times[-1] if ok else start) + 0.001,
            token_times=times, started_at_utc="2026-01-01T00:00:00Z",
        ),
        completion_tokens=tokens if ok else None,
        server_timings={"embed_ms": 5.0, "retrieve_ms": 10.0},
        model="m", engine="llamacpp",
    )
