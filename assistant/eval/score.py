"""Scoring: one answer against its item (``Result``), and every metric of docs/evaluation.md over many."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .qa import HIT_KS, MULTI_TYPES, RETRIEVAL_K, TYPES, QAItem, hit_at, is_gold, reciprocal_rank, unmet_requirements

_REASONS = ("retrieval miss", "false abstention", "wrong answer", "invented answer")


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


@dataclass
class Result:
    """One system's answer to one QA item, scored."""

    system: str
    id: str
    type: str
    question: str  # the last turn
    standalone: str  # what was retrieved with
    abstain_expected: bool
    gold: list[str]
    answer: str
    abstained: bool
    ok: bool  # answerable: all requirements met and no abstention; unanswerable: abstained
    unmet: list[list[str]]  # requirements not met (answerable questions only)
    cited: list[str]  # articles cited by the answer, first citation first
    context: list[str]  # articles of the passages the model was given
    ranking: list[str]  # article of each of the top RETRIEVAL_K ranked passages (answerable only)
    retrieve_s: float = 0.0
    first_token_s: float = 0.0  # 0 when no model ran (abstained at retrieval)
    total_s: float = 0.0
    model: str = ""
    turns: int = 1
    raw: str = ""  # the model's reply before verification ("" when no model ran)
    removed: list[str] = field(default_factory=list)  # sentences the verifier dropped as unsupported
    # Every requirement met somewhere in the retrieved passages' titles and text (answerable only; None
    # when not recorded): False means the answer never reached the model, whatever the article ranks.
    answer_in_passages: bool | None = None
    style: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return not self.abstain_expected

    @property
    def reason(self) -> str:
        """Why a failed question failed ("" when it did not)."""
        return failure_reason(self)

    @property
    def stage(self) -> str:
        """Where an abstention came from: ``retrieval gate`` (no model ran), ``model declined`` or
        ``verifier`` (the model answered, every sentence was removed as unsupported); "" otherwise."""
        if not self.abstained:
            return ""
        if self.first_token_s <= 0:
            return "retrieval gate"
        if not self.raw:
            return "after the model"  # a result recorded without the model's reply
        from ..verify import is_decline

        return "verifier" if self.removed and not is_decline(self.raw) else "model declined"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def score(item: QAItem, system: str, *, answer: str, abstained: bool, standalone: str, cited: Sequence[str],
          context: Sequence[str], ranking: Sequence[str], retrieve_s: float = 0.0, first_token_s: float = 0.0,
          total_s: float = 0.0, model: str = "", raw: str = "", removed: Sequence[str] = (),
          passages_text: str | None = None) -> Result:
    """Score one answer against its item (``passages_text``: what retrieval handed over, if known)."""
    unmet = [] if item.abstain else unmet_requirements(answer, item.must)
    in_passages = None if item.abstain or passages_text is None else not unmet_requirements(passages_text, item.must)
    ok = abstained if item.abstain else (not abstained and not unmet)
    return Result(system=system, id=item.id, type=item.type, question=item.question, standalone=standalone,
                  abstain_expected=item.abstain, gold=list(item.gold), answer=answer, abstained=abstained, ok=ok,
                  unmet=unmet, cited=unique(cited), context=unique(context), ranking=list(ranking),
                  retrieve_s=retrieve_s, first_token_s=first_token_s, total_s=total_s, model=model,
                  turns=len(item.turns), raw=raw, removed=list(removed), answer_in_passages=in_passages,
                  style=list(item.style))


def failure_reason(result: Result) -> str:
    """``invented answer`` (unanswerable, not abstained); for answerable ones ``retrieval miss`` when no
    gold article reached the model, else ``false abstention`` or ``wrong answer``."""
    if result.ok:
        return ""
    if result.abstain_expected:
        return "invented answer"
    if result.gold and not any(is_gold(s, result.gold) for s in result.context):
        return "retrieval miss"
    return "false abstention" if result.abstained else "wrong answer"


# -- aggregate metrics ----------------------------------------------------------------------------


def rate(num: float, den: float) -> float | None:
    """``num / den``, or None when there is nothing to divide by."""
    return num / den if den else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def failures(results: Sequence[Result]) -> list[Result]:
    """The results that were not handled right, in input order."""
    return [r for r in results if not r.ok]


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Every metric of docs/evaluation.md for one system's results (rates are None when undefined)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if not r.abstained]
    correct = [r for r in answerable if r.ok]
    cited = sum(len(r.cited) for r in answered)
    cited_gold = sum(1 for r in answered for s in r.cited if is_gold(s, r.gold))
    covered = sum(1 for r in correct if any(is_gold(s, r.gold) for s in r.cited))
    conversations = [r for r in results if r.turns > 1]
    multi = [r for r in results if r.type in MULTI_TYPES]

    by_type: dict[str, dict[str, Any]] = {}
    for kind in sorted({r.type for r in results}, key=lambda t: (TYPES.index(t) if t in TYPES else 99, t)):
        group = [r for r in results if r.type == kind]
        ok = sum(r.ok for r in group)
        abstained = sum(r.abstained for r in group)
        by_type[kind] = {"n": len(group), "ok": ok, "accuracy": rate(ok, len(group)), "abstained": abstained,
                         "abstention_rate": rate(abstained, len(group))}

    ranked = [r for r in answerable if r.gold]
    retrieval: dict[str, Any] = {"n": len(ranked)}
    for k in HIT_KS:
        retrieval[f"hit@{k}"] = rate(sum(hit_at(r.ranking, r.gold, k) for r in ranked), len(ranked))
    retrieval[f"mrr@{RETRIEVAL_K}"] = rate(sum(reciprocal_rank(r.ranking, r.gold) for r in ranked), len(ranked))
    retrieval["gold_in_context"] = rate(sum(any(is_gold(s, r.gold) for s in r.context) for r in ranked),
                                        len(ranked))
    known = [r for r in answerable if r.answer_in_passages is not None]
    retrieval["answer_in_passages"] = rate(sum(bool(r.answer_in_passages) for r in known), len(known))
    retrieval["n_answer_in_passages"] = len(known)

    latency: dict[str, Any] = {}
    for name in ("retrieve_s", "first_token_s", "total_s"):
        # First token only exists when the model ran; questions abstained at retrieval have none.
        values = [getattr(r, name) for r in results if name != "first_token_s" or r.first_token_s > 0]
        latency[name] = {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95)}

    failed = failures(results)
    reasons = {reason: sum(1 for r in failed if r.reason == reason) for reason in _REASONS}
    stages: dict[str, int] = {}
    for r in answerable:
        if r.abstained:
            stages[r.stage] = stages.get(r.stage, 0) + 1
    return {
        "n": len(results),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_ok": sum(r.ok for r in results),
        "n_failed": len(failed),
        "overall": rate(sum(r.ok for r in results), len(results)),
        "accuracy": rate(len(correct), len(answerable)),
        "n_correct": len(correct),
        "correct_abstention_rate": rate(sum(r.abstained for r in unanswerable), len(unanswerable)),
        "n_correct_abstentions": sum(r.abstained for r in unanswerable),
        "false_abstention_rate": rate(sum(r.abstained for r in answerable), len(answerable)),
        "n_false_abstentions": sum(r.abstained for r in answerable),
        "citation_precision": rate(cited_gold, cited),
        "n_citations": cited,
        "n_gold_citations": cited_gold,
        "citation_coverage": rate(covered, len(correct)),
        "n_covered": covered,
        "multi_accuracy": rate(sum(r.ok for r in multi), len(multi)),
        "n_multi_ok": sum(r.ok for r in multi),
        "n_multi": len(multi),
        "conversation_accuracy": rate(sum(r.ok for r in conversations), len(conversations)),
        "n_conversations": len(conversations),
        "by_type": by_type,
        "retrieval": retrieval,
        "latency": latency,
        "failure_reasons": reasons,
        "false_abstention_stages": stages,
        "failed_ids": [r.id for r in failed],
    }
