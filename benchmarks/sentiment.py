"""Sentiment: our partnership-adapted analyser next to plain VADER, on the same texts in the same run.

- Macro-F1 (mean of the per-label F1 for positive, neutral, negative) on the project's labelled
  partnership comments (tests/data/partnership_sentiment.tsv), on its dev split, its held-out split (never
  looked at while choosing lexicon entries) and on all rows.
- Pearson correlation of the compound score with the human mean rating on the four human-rated sets of
  the VADER paper (``../shared/benchmarks/sentiment/``; PARTNERPULSE_SENTIMENT_SETS overrides the folder).
  Ours must not fall more than 0.01 below plain VADER on the tweets.
- Throughput in comments per second over short texts (the partnership comments and the tweets), ours
  and plain alternating (plain, ours, ours, plain) over the same texts, because machines are noisy:
  read the ratio.
"""

from __future__ import annotations

import html
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import fmt, table
from bot.services.sentiment import NEGATIVE, NEUTRAL, POSITIVE, analyse, plain_vader

LABELS = (POSITIVE, NEUTRAL, NEGATIVE)
PARTNERSHIP_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "partnership_sentiment.tsv"
HUMAN_SETS = ("tweets", "amazonReviewSnippets", "nytEditorialSnippets", "movieReviewSnippets")
#: Allowed drop in correlation on the tweets against plain VADER (the issue's acceptance criterion).
TWEETS_TOLERANCE = 0.01


@dataclass(frozen=True)
class Labelled:
    label: str
    side: str
    text: str
    split: str


def load_labelled(path: Path = PARTNERSHIP_SET) -> list[Labelled]:
    """The labelled partnership comments: ``label<TAB>side<TAB>text<TAB>split``; ``#`` lines are comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, side, text, split = line.split("\t")
        rows.append(Labelled(label, side, text, split))
    return rows


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """The mean over positive, neutral and negative of each label's F1 (0 for a label never hit)."""
    scores = []
    for label in LABELS:
        hits = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        wrong = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        missed = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * hits / (2 * hits + wrong + missed) if hits else 0.0)
    return sum(scores) / len(scores)


def sets_folder() -> Path:
    override = os.environ.get("PARTNERPULSE_SENTIMENT_SETS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "sentiment"


def load_human_set(path: Path) -> tuple[list[str], list[float]]:
    """Texts (HTML-unescaped) and mean human ratings from ``id<TAB>rating<TAB>text`` lines."""
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        texts.append(html.unescape(parts[2]))
        ratings.append(float(parts[1]))
    return texts, ratings


def _f1_rows(rows: Sequence[Labelled]) -> list[dict[str, Any]]:
    splits = [("dev", [r for r in rows if r.split == "dev"]), ("held-out", [r for r in rows if r.split == "heldout"])]
    results = []
    for name, subset in [*splits, ("all", list(rows))]:
        gold = [r.label for r in subset]
        ours = macro_f1(gold, [analyse(r.text).label for r in subset])
        plain = macro_f1(gold, [plain_vader(r.text).label for r in subset])
        results.append({"split": name, "n": len(subset), "ours": ours, "plain": plain, "diff": ours - plain})
    return results


def _correlations(folder: Path) -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
    found, missing, texts = [], [], {}
    for name in HUMAN_SETS:
        path = folder / f"{name}_GroundTruth.txt"
        if not path.is_file():
            missing.append(str(path))
            continue
        texts[name], ratings = load_human_set(path)
        ours = statistics.correlation([analyse(t).score for t in texts[name]], ratings)
        plain = statistics.correlation([plain_vader(t).score for t in texts[name]], ratings)
        found.append({"set": name, "n": len(ratings), "ours": ours, "plain": plain, "diff": ours - plain})
    return found, missing, texts


def _throughput(texts: Sequence[str]) -> dict[str, Any]:
    """Comments per second, ours and plain, from runs alternating plain, ours, ours, plain."""
    seconds = {"ours": 0.0, "plain": 0.0}
    for name in ("plain", "ours", "ours", "plain"):
        score = analyse if name == "ours" else plain_vader
        started = time.perf_counter()
        for text in texts:
            score(text)
        seconds[name] += time.perf_counter() - started
    ours, plain = 2 * len(texts) / seconds["ours"], 2 * len(texts) / seconds["plain"]
    return {"texts": len(texts), "ours_per_s": ours, "plain_per_s": plain, "ratio": ours / plain}


def run_sentiment() -> dict[str, Any]:
    rows = load_labelled()
    # Load both lexicons before anything is timed.
    analyse("x")
    plain_vader("x")
    folder = sets_folder()
    if folder.is_dir():
        correlations, missing, human_texts = _correlations(folder)
    else:
        correlations, missing, human_texts = [], [str(folder)], {}
    tweets = next((c for c in correlations if c["set"] == "tweets"), None)
    return {
        "partnership_set": str(PARTNERSHIP_SET),
        "macro_f1": _f1_rows(rows),
        "sets_folder": str(folder),
        "correlation": correlations,
        "missing": missing,
        "tweets_within_tolerance": None if tweets is None else tweets["diff"] >= -TWEETS_TOLERANCE,
        # Short texts like pulse comments: the partnership comments and, if present, the tweets.
        "throughput": _throughput([r.text for r in rows] + human_texts.get("tweets", [])),
    }


def render(results: dict[str, Any]) -> str:
    """The sentiment tables."""
    f1_rows = [
        [r["split"], str(r["n"]), fmt(r["plain"], 3), fmt(r["ours"], 3), f"{r['diff']:+.3f}"] for r in results["macro_f1"]
    ]
    lines = [
        f"Sentiment: macro-F1 on the partnership comments ({Path(results['partnership_set']).name}), "
        "labels by compound >= 0.05 / <= -0.05.",
        table(["split", "n", "plain VADER", "ours", "ours - plain"], f1_rows),
        "",
        f"Pearson r of the compound score with the human mean ({results['sets_folder']}):",
    ]
    if results["correlation"]:
        corr_rows = [
            [c["set"], str(c["n"]), fmt(c["plain"], 4), fmt(c["ours"], 4), f"{c['diff']:+.4f}"]
            for c in results["correlation"]
        ]
        lines.append(table(["set", "n", "plain VADER", "ours", "ours - plain"], corr_rows))
    for path in results["missing"]:
        lines.append(f"skipped: {path} not found (set PARTNERPULSE_SENTIMENT_SETS to the folder of *_GroundTruth.txt)")
    within = results["tweets_within_tolerance"]
    if within is not None:
        lines.append(f"tweets within {TWEETS_TOLERANCE} of plain VADER: {'yes' if within else 'NO'}")
    t = results["throughput"]
    lines += [
        "",
        f"Throughput over {t['texts']} texts, runs alternating plain/ours/ours/plain: plain {fmt(t['plain_per_s'], 0)}/s, "
        f"ours {fmt(t['ours_per_s'], 0)}/s, ours/plain {fmt(t['ratio'], 2)}.",
    ]
    return "\n".join(lines)
