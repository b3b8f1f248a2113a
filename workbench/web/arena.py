"""Arena tab: one question to stack A and stack B, both answers streaming side by side.

Blind mode puts the two stacks on randomised sides and hides their names until the human
has voted (left, right, tie, both bad); the vote is stored with the real stack names
(`Store.add_vote`), next to automatic scores (token F1 against a gold answer, when given).

The tab opens on the latest run's running stacks and eval set, and deals that run's own
questions (`arena_deal`): a vote on a dealt question is stored with the run's id and its
question id, so it pairs with the run's automatic scores.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, NamedTuple

import gradio as gr

from workbench.normalize import f1_score
from workbench.records.evalset import space_id_for
from workbench.runner.client import RagServiceClient
from workbench.runner.session import load_evalset_ref, resolve_stack
from workbench.stacks.kinds import stack_kind
from workbench.web.arena_deal import Dealt, cached_start, deal
from workbench.web.arena_stream import Pane, stream_pair
from workbench.web.common import WebConfig, esc, evalset_names, open_store, stack_names, status_md

VOTES = {"left": "Left is better", "right": "Right is better", "tie": "Tie",
         "both_bad": "Both are bad"}
#: A URL in an error message: its port tells the stacks apart, so blind mode hides it.
_URL = re.compile(r"https?://[^\s'\")]+")


@dataclass(frozen=True)
class ArenaRound:
    """One asked question: who sits on which side, and what each side answered."""

    question: str
    space_id: str
    stacks: dict[str, str]
    left: str = "A"
    blind: bool = False
    gold: str = ""
    panes: dict[str, Pane] = field(default_factory=dict)
    voted: str | None = None
    run_id: str | None = None
    """The run whose question this is (a dealt question), else None."""
    question_id: str | None = None

    @property
    def right(self) -> str:
        """The side shown on the right."""
        return "B" if self.left == "A" else "A"


class ArenaView(NamedTuple):
    """What the ask handler yields, in the order of the tab's output components."""

    left_title: str
    left_answer: str
    left_sources: str
    right_title: str
    right_answer: str
    right_sources: str
    status: str
    round: ArenaRound | None
    prepared: frozenset[str]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def auto_scores(rnd: ArenaRound) -> dict[str, float]:
    """Token F1 of each side against the gold answer (empty when no gold was given)."""
    if not rnd.gold.strip():
        return {}
    return {side: f1_score(p.text, [rnd.gold]) for side, p in rnd.panes.items()}


def blinded(rnd: ArenaRound, text: str) -> str:
    """`text` with the stacks' names and any URL hidden while a blind round is unvoted (an
    error such as "vllm-cpu: HTTP 500 from http://127.0.0.1:9000" would say who is who)."""
    if not rnd.blind or rnd.voted is not None:
        return text
    for name in sorted(set(rnd.stacks.values()), key=len, reverse=True):
        if name:
            text = text.replace(name, "(a stack)")
    return _URL.sub("(a stack's URL)", text)


def title(rnd: ArenaRound, side: str, position: str) -> str:
    """A pane's heading: the stack's name, or only its position while blind and unvoted."""
    if rnd.blind and rnd.voted is None:
        return f"### {position}"
    return f"### {position}: {esc(rnd.stacks[side])}"


def render_answer(pane: Pane | None, f1: float | None = None) -> str:
    """The answer so far, then its timings (TTFT, total, tokens, tokens/s)."""
    if pane is None:
        return ""
    body = esc(pane.text) or ("*waiting for the first token...*" if not pane.finished else "")
    if pane.error:
        body += f"\n\n**error:** {esc(pane.error)}"
    rate = "-" if pane.tokens_per_s is None else f"{pane.tokens_per_s:.1f}"
    state = "done" if pane.finished else "streaming"
    meta = (f"TTFT {_ms(pane.ttft_s)} · total {_ms(pane.total_s)} · {pane.tokens} tokens · "
            f"{rate} tok/s · {state}")
    if f1 is not None:
        meta += f" · token F1 vs gold {f1:.3f}"
    return f"{body}\n\n<small>{meta}</small>"


def render_sources(pane: Pane | None) -> str:
    """The retrieved passages: rank, doc id, chunk id, score and text."""
    if pane is None or not pane.passages:
        return "*no passages yet*"
    lines = []
    for rank, p in enumerate(pane.passages, start=1):
        score = "-" if p.score is None else f"{p.score:.4f}"
        text = esc(p.text[:600]) + ("..." if len(p.text) > 600 else "")
        lines.append(f"**{rank}. {esc(p.doc_id)}** (chunk {esc(p.chunk_id)}, score {score})"
                     f"\n\n> {text}")
    return "\n\n".join(lines)


def view(rnd: ArenaRound, status: str, prepared: frozenset[str]) -> ArenaView:
    """The whole tab for a round (both panes in their blind/revealed positions). A blind
    round shows no token F1 before the vote: it would hint at which answer to prefer."""
    done = all(p.finished for p in rnd.panes.values())
    f1 = auto_scores(rnd) if done and not (rnd.blind and rnd.voted is None) else {}
    left, right = (None if p is None else replace(p, error=p.error and blinded(rnd, p.error))
                   for p in (rnd.panes.get(rnd.left), rnd.panes.get(rnd.right)))
    return ArenaView(
        title(rnd, rnd.left, "Left"), render_answer(left, f1.get(rnd.left)), render_sources(left),
        title(rnd, rnd.right, "Right"), render_answer(right, f1.get(rnd.right)),
        render_sources(right), blinded(rnd, status), rnd, prepared,
    )


async def ask(cfg: WebConfig, question: str, stack_a: str, stack_b: str, evalset: str,
              blind: bool, gold: str, prepared: frozenset[str] | None,
              dealt: Dealt | None = None,
              rng: random.Random | None = None) -> AsyncIterator[ArenaView]:
    """Stream one question from both stacks; yields the whole tab as tokens arrive.

    The eval set's corpus is indexed on each stack once per session (the service reuses an
    unchanged index), since the question is asked in that corpus' space. A `dealt` run
    question asked as dealt (its text unchanged) brings its run id, question id and gold.
    """
    done = prepared or frozenset()
    empty = ArenaRound(question=question, space_id=evalset, stacks={"A": stack_a, "B": stack_b})
    if not question.strip() or not stack_a or not stack_b or not evalset:
        yield view(empty, status_md("Type a question and pick both stacks and a corpus.",
                                    "warn"), done)
        return
    if stack_a == stack_b:
        yield view(empty, status_md("Pick two different stacks.", "warn"), done)
        return
    own = dealt is not None and question.strip() == dealt.question.strip()
    rnd = replace(empty, blind=blind, gold=gold or (dealt.gold if own and dealt else ""),
                  left=(rng.choice("AB") if rng else secrets.choice("AB")) if blind else "A",
                  run_id=dealt.run_id if own and dealt else None,
                  question_id=dealt.question_id if own and dealt else None)
    try:
        stacks = {s: resolve_stack(n, cfg.settings) for s, n in (("A", stack_a), ("B", stack_b))}
    except Exception as exc:  # an unknown or broken recipe: say which, keep the page alive
        yield view(rnd, status_md(f"Cannot use these stacks: {exc}", "error"), done)
        return
    if not all(stack_kind(st).streams for st in stacks.values()):
        yield view(rnd, status_md("The arena streams from RAG-service stacks; an external "
                                  "backend does not stream. Use it in the Run tab.", "warn"), done)
        return
    clients = {s: RagServiceClient(st, timeout_s=300) for s, st in stacks.items()}
    # Indexed and asked in the same space, one the RAG service accepts (a hub id's `/` not).
    space = space_id_for(evalset)
    try:
        for client in clients.values():
            key = f"{client.stack.rag_url}|{evalset}"
            if key in done:
                continue
            yield view(rnd, status_md(f"Indexing {evalset} on {client.stack.name} (once)...",
                                      "info"), done)
            ev = load_evalset_ref(evalset, cfg.settings)
            await client.prepare(space, [p.model_dump() for p in ev.passages])
            done = done | {key}
        yield view(rnd, status_md("Asking both stacks...", "info"), done)
        async for panes in stream_pair(clients, {"A": stack_a, "B": stack_b}, question,
                                       space):
            rnd = replace(rnd, panes=panes)
            yield view(rnd, status_md("Streaming...", "info"), done)
    except Exception as exc:  # e.g. a stack is down: a message, never a traceback
        yield view(rnd, status_md(f"Request failed: {type(exc).__name__}: {exc}. Are both "
                                  "stacks up (Stacks tab)?", "error"), done)
        return
    finally:
        for client in clients.values():
            await client.aclose()
    hint = "Vote: which answer is better?" + (" (names hidden until you vote)" if blind else "")
    yield view(rnd, status_md(hint, "ok"), done)


def vote(cfg: WebConfig, choice: str, rnd: ArenaRound | None) -> tuple[str, str, str,
                                                                       ArenaRound | None]:
    """Store a human vote for the round; returns (status, left title, right title, round).

    `choice` is a position (left/right) or tie/both_bad; it is stored as the side it
    stands for (A/B), so a blind vote means the same as an open one.
    """
    if rnd is None or not rnd.panes or not all(p.finished for p in rnd.panes.values()):
        return status_md("Ask a question and wait for both answers first.", "warn"), \
            gr.skip(), gr.skip(), rnd
    if rnd.voted is not None:
        return status_md(f"Already voted ({rnd.voted}) on this question.", "warn"), \
            gr.skip(), gr.skip(), rnd
    stored = {"left": rnd.left, "right": rnd.right}.get(choice, choice)
    scores = auto_scores(rnd)
    detail: dict[str, Any] = {
        "left": rnd.left, "space_id": rnd.space_id, "gold": rnd.gold or None,
        "token_f1": scores or None,
        "answers": {s: p.text for s, p in rnd.panes.items()},
        "errors": {s: p.error for s, p in rnd.panes.items() if p.error},
        "timings": {s: {"ttft_s": p.ttft_s, "total_s": p.total_s, "tokens": p.tokens,
                        "tokens_per_s": p.tokens_per_s} for s, p in rnd.panes.items()},
        "sources": {s: [x.doc_id for x in p.passages] for s, p in rnd.panes.items()},
        "question_id": rnd.question_id,
    }
    try:
        with open_store(cfg) as store:
            store.add_vote(question=rnd.question, stack_a=rnd.stacks["A"],
                           stack_b=rnd.stacks["B"], vote=stored, blind=rnd.blind, detail=detail,
                           run_id=rnd.run_id)
    except Exception as exc:  # a locked or read-only database: say so
        return status_md(f"Vote not stored: {exc}", "error"), gr.skip(), gr.skip(), rnd
    rnd = replace(rnd, voted=stored)
    names = {"A": rnd.stacks["A"], "B": rnd.stacks["B"]}
    what = {"A": f"{names['A']} (A) is better", "B": f"{names['B']} (B) is better",
            "tie": "tie", "both_bad": "both bad"}[stored]
    return (status_md(f"Vote stored: {what}.", "ok"), title(rnd, rnd.left, "Left"),
            title(rnd, rnd.right, "Right"), rnd)


def deal_next(cfg: WebConfig, dealt: Dealt | None) -> tuple[str, str, Dealt | None, str]:
    """The Deal button: (question, gold box, dealt state, status) for the latest run's next
    question. The gold box is cleared: the gold stays off the page while the human votes."""
    run_id = cached_start(cfg).run_id
    try:
        nxt = deal(cfg, run_id, dealt)
    except Exception as exc:  # a locked or damaged database: say so, keep the page alive
        return gr.skip(), gr.skip(), dealt, status_md(f"Cannot deal a question: {exc}", "error")
    if nxt is None:
        return gr.skip(), gr.skip(), dealt, status_md(
            "No stored run to deal questions from: run one first (Run tab).", "warn")
    return (nxt.question, "", nxt, status_md(
        f"Question {nxt.position + 1} of {nxt.total} from run `{nxt.run_id}` (its gold answer "
        "is kept for the token F1 stored with your vote). Ask both, then vote.", "info"))


def build_arena_tab(cfg: WebConfig) -> None:
    """The Arena tab's components and events (call inside a `gr.Tab`). Its stacks, eval set
    and run note are read on every page load (the latest run may be newer than the app)."""
    stacks, sets = stack_names(cfg), evalset_names(cfg)
    gr.Markdown(lambda: cached_start(cfg).note, elem_id="arena-run-note")
    with gr.Row():
        stack_a = gr.Dropdown(stacks, value=lambda: cached_start(cfg).stack_a, label="Stack A",
                              allow_custom_value=True, elem_id="arena-stack-a")
        stack_b = gr.Dropdown(stacks, value=lambda: cached_start(cfg).stack_b,
                              label="Stack B", allow_custom_value=True, elem_id="arena-stack-b")
        evalset = gr.Dropdown(sets, value=lambda: cached_start(cfg).evalset,
                              allow_custom_value=True, elem_id="arena-evalset",
                              label="Corpus (eval set to retrieve from)")
        blind = gr.Checkbox(value=True, label="Blind (random sides, names hidden)")
    with gr.Row():
        question = gr.Textbox(label="Question", scale=4, elem_id="arena-question")
        gold = gr.Textbox(label="Gold answer (optional, for token F1)", scale=2)
        with gr.Column(scale=1, min_width=160):
            deal_btn = gr.Button("Deal a run question", elem_id="arena-deal")
            ask_btn = gr.Button("Ask both", variant="primary", elem_id="arena-ask")
    status = gr.Markdown(elem_id="arena-status")
    panes = []
    with gr.Row(equal_height=False):
        for pos in ("left", "right"):
            with gr.Column():
                head = gr.Markdown(f"### {pos.title()}", elem_id=f"arena-{pos}-title")
                answer = gr.Markdown(elem_id=f"arena-{pos}-answer", min_height=120)
                with gr.Accordion("Retrieved passages", open=True):
                    sources = gr.Markdown(elem_id=f"arena-{pos}-sources")
                panes += [head, answer, sources]
    with gr.Row():
        buttons = {k: gr.Button(label, elem_id=f"vote-{k}") for k, label in VOTES.items()}
    rnd = gr.State(None)
    prepared = gr.State(frozenset())
    dealt = gr.State(None)
    deal_btn.click(partial(deal_next, cfg), inputs=[dealt],
                   outputs=[question, gold, dealt, status])
    gr.on([ask_btn.click, question.submit], partial(ask, cfg),
          inputs=[question, stack_a, stack_b, evalset, blind, gold, prepared, dealt],
          outputs=[*panes, status, rnd, prepared], concurrency_limit=4)
    for choice, button in buttons.items():
        button.click(partial(vote, cfg, choice), inputs=[rnd],
                     outputs=[status, panes[0], panes[3], rnd])
