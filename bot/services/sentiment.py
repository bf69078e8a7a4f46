"""Comment sentiment: VADER, taught the language of outsourcing partnerships.

VADER (vaderSentiment) is a lexicon and a handful of rules: no model to download, fast, and every score
can be explained word by word. Its lexicon comes from social media, so it is deaf to how a client and a
provider talk about work: "overdue", "rework" and "backlog" carry no valence, and it scores word by word,
so "behind schedule", "SLA miss" or "on track" mean nothing to it. Two adaptations, nothing else:

- ``LEXICON``: partnership words added to (or, for a few, adjusted in) VADER's lexicon, on VADER's own
  -4..+4 scale; ``NOT_SENTIMENT``: VADER entries that are plain words at work ("PO"), removed.
- ``PHRASES``: multi-word phrases are rewritten to one sentinel token (``pp_behind``) before VADER
  runs, and each sentinel is in the lexicon with the phrase's valence. VADER's own rules then apply to
  the sentinel as to any word: "not on track" is negated, "very behind schedule" is boosted. A few
  sentinels carry no valence; they hide a word VADER would score that is a plain noun at work ("support
  desk", "risk register"). A hedge before "but" ("not bad, but", "ok but") becomes ``pp_hedge``, mildly
  negative instead of VADER's half-positive "not bad", and VADER's "but" rule gives the clause after it
  the weight, as a reader does: "not bad, but the handover was late" is negative.

Text without partnership vocabulary is scored exactly as plain VADER scores it, so the analyser keeps
VADER's accuracy on general text (see benchmarks/sentiment.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # no type stubs: Any to mypy

#: VADER's published convention for its compound score: >= 0.05 positive, <= -0.05 negative, neutral in
#: between. The same thresholds label plain VADER, so comparisons measure the lexicon, not the cut-offs.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

#: Only the first 5,000 characters are scored (a pulse comment is at most 3,000). VADER's rules rescan
#: the whole text for every sentiment word, so its cost grows with the square of the length: a
#: 50,000-character comment takes seconds, its first 5,000 characters tens of milliseconds.
MAX_ANALYSED_CHARS = 5000

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"

#: Words with a valence in partnership comments, on VADER's scale (-4..+4; VADER's "bad" is -2.5, "good"
#: 1.9). Entries VADER already has are marked: their value here replaces VADER's.
LEXICON: dict[str, float] = {
    # delivery going wrong
    "overdue": -1.8,
    "late": -1.0,
    "delays": -1.3,
    "delayed": -1.3,  # VADER -0.9
    "slipped": -1.4,
    "slipping": -1.4,
    "slippage": -1.4,
    "blocked": -1.5,  # VADER -1.1
    "blocker": -1.5,
    "blockers": -1.5,
    "backlog": -0.6,
    "rework": -1.5,
    "reopened": -1.0,
    "escalate": -1.0,
    "escalated": -1.2,
    "escalation": -0.5,
    "escalations": -0.5,
    "outage": -1.8,
    "outages": -1.8,
    "downtime": -1.5,
    "breach": -1.8,
    "breaches": -1.8,
    "breached": -1.8,
    "bug": -0.8,
    "bugs": -1.0,
    "regression": -1.0,
    "regressions": -1.0,
    "incident": -0.6,
    "incidents": -0.8,
    "bottleneck": -1.3,
    "firefighting": -1.4,
    "understaffed": -1.6,
    "overstretched": -1.4,
    "overworked": -1.6,
    "burnout": -2.0,
    "unresponsive": -1.8,
    "unanswered": -1.3,
    "undocumented": -1.0,
    "unplanned": -0.8,
    "unrealistic": -1.3,
    "incomplete": -1.2,
    "inaccurate": -1.3,
    "sloppy": -1.8,
    "flaky": -1.3,
    "patchy": -1.0,
    "vague": -1.0,  # VADER -0.4
    "chasing": -0.8,
    "dragging": -0.8,
    "micromanagement": -1.8,
    "micromanaging": -1.8,
    "rollback": -1.0,
    "slow": -1.0,
    "reopen": -0.8,
    "reopens": -0.8,
    "expired": -1.0,
    "nobody": -1.0,  # "nobody picked it up", "nobody on their side owns it"
    # delivery going right
    "proactive": 1.8,  # VADER 1.8, unchanged: listed so the partnership vocabulary is in one place
    "proactively": 1.8,
    "responsive": 1.5,  # VADER 1.5, unchanged
    "timely": 1.5,
    "promptly": 1.4,
    "quickly": 0.8,
    "smooth": 1.6,
    "smoothly": 1.6,
    "seamless": 1.8,
    "seamlessly": 1.8,
    "thorough": 1.5,
    "reliable": 1.6,
    "accurate": 1.2,
    "constructive": 1.5,
    "collaborative": 1.6,
    "collaboration": 1.2,
    "unblocked": 1.5,
    "shoutout": 1.8,
}


#: VADER entries that are plain words at work: "PO" is a product owner or a purchase order, not slang for
#: "poor" (-2.6). Removed rather than set to 0, because VADER adds emphasis to any lexicon word in capitals.
NOT_SENTIMENT: tuple[str, ...] = ("po",)


@dataclass(frozen=True)
class Phrase:
    sentinel: str
    valence: float
    pattern: str  # a regular expression, matched case-insensitively between word boundaries


# Spaces or hyphens between the words of a phrase: "on-track", "SLA  miss".
_SEP = r"[\s-]+"

#: Multi-word phrases VADER cannot see, rewritten to a sentinel token with the phrase's valence. Checked
#: in order, so longer phrases come before the shorter ones they contain.
PHRASES: tuple[Phrase, ...] = (
    Phrase(
        "pp_hedge",
        -1.0,
        rf"(?:not{_SEP}(?:too{_SEP})?bad|ok|okay|fine|alright|all{_SEP}right|decent|good{_SEP}enough)(?=,?{_SEP}but\b)",
    ),
    Phrase(
        "pp_all_clear",
        1.5,
        rf"(?:no|zero){_SEP}(?:blockers|escalations|incidents|outages|breaches|surprises|sla{_SEP}misses)",
    ),
    Phrase(
        "pp_sla_miss",
        -2.0,
        rf"sla{_SEP}(?:miss(?:es|ed)?|breach(?:es|ed)?)|(?:missed|breached){_SEP}(?:the{_SEP}|an{_SEP}|our{_SEP}|their{_SEP})?slas?",
    ),
    Phrase(
        "pp_missed_deadline",
        -2.0,
        rf"missed{_SEP}(?:the{_SEP}|a{_SEP}|an{_SEP}|our{_SEP}|their{_SEP}|another{_SEP})?(?:deadline|deadlines|date|milestone|release{_SEP}date)",
    ),
    Phrase("pp_ahead", 2.0, rf"ahead{_SEP}of{_SEP}(?:schedule|plan|time)"),
    Phrase("pp_behind", -1.8, rf"behind{_SEP}(?:schedule|plan)|(?:running|falling|fell|fallen){_SEP}behind"),
    Phrase("pp_on_track", 1.5, rf"on{_SEP}track"),
    Phrase("pp_off_track", -1.5, rf"off{_SEP}track"),
    Phrase("pp_on_time", 1.5, rf"on{_SEP}(?:time|schedule|budget)"),
    Phrase("pp_went_live", 1.2, rf"(?:went|gone|now){_SEP}live"),
    Phrase(
        "pp_could_be_better",
        -1.2,
        rf"could{_SEP}(?:have{_SEP}been|be){_SEP}better|room{_SEP}for{_SEP}improvement|needs{_SEP}(?:improvement|work)",
    ),
    Phrase("pp_still_waiting", -1.2, rf"still{_SEP}waiting"),
    Phrase("pp_timeout", -1.2, rf"(?:times|timed|timing){_SEP}out"),
    Phrase("pp_rolled_back", -1.2, rf"rolled{_SEP}back"),
    Phrase("pp_burnout", -2.0, rf"(?:burning|burnt|burned){_SEP}out"),
    Phrase("pp_piling_up", -1.2, rf"piling{_SEP}up"),
    Phrase("pp_last_minute", -1.0, rf"(?:the{_SEP})?last{_SEP}minute"),
    Phrase("pp_scope_creep", -1.5, rf"scope{_SEP}creep|(?:scope|backlog){_SEP}(?:keeps{_SEP})?(?:growing|grows|grew)"),
    Phrase(
        "pp_above_beyond",
        2.2,
        rf"above{_SEP}and{_SEP}beyond|(?:went|go|goes|going){_SEP}beyond|(?:the{_SEP})?extra{_SEP}mile",
    ),
    # Plain nouns at work that VADER would score ("support" 1.7, "security" 1.4, "risk" -1.1, "no" -1.2).
    Phrase(
        "pp_desk", 0.0, rf"(?:support|service|help){_SEP}(?:desk|team|ticket|tickets|rota|staff|engineers?|contract|queue)"
    ),
    Phrase("pp_security", 0.0, rf"security{_SEP}(?:review|questionnaire|team|patching|patches|audit)"),
    Phrase("pp_register", 0.0, rf"risk{_SEP}(?:register|log|review)"),
    Phrase("pp_happy_path", 0.0, rf"happy{_SEP}paths?"),
    Phrase("pp_no_change", 0.0, rf"no{_SEP}(?:significant{_SEP}|major{_SEP}|real{_SEP})?(?:change|changes|news|opinion)"),
)

# All phrases in one pattern, one named group each (``p0``, ``p1``, ... in ``PHRASES`` order), so the text is
# scanned once instead of once per phrase. Where two phrases could start at the same place the earlier one in
# ``PHRASES`` wins, as it did when they were applied one after the other: both ways rewrite every labelled text
# and the rated sets alike, and the sentiment benchmark's figures did not change (tests/unit/test_digest_sentiment.py).
_COMBINED = re.compile(r"\b(?:" + "|".join(f"(?P<p{i}>{p.pattern})" for i, p in enumerate(PHRASES)) + r")\b", re.IGNORECASE)
_SENTINELS = {f"p{i}": p.sentinel for i, p in enumerate(PHRASES)}


@dataclass(frozen=True)
class Sentiment:
    """VADER's compound score (-1..1) and its label."""

    score: float
    label: str


def label_for(score: float) -> str:
    """``positive``, ``neutral`` or ``negative`` by the thresholds above."""
    if score >= POSITIVE_THRESHOLD:
        return POSITIVE
    if score <= NEGATIVE_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


@cache
def _plain_analyser() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@cache
def _adapted_analyser() -> SentimentIntensityAnalyzer:
    analyser = SentimentIntensityAnalyzer()
    analyser.lexicon.update(LEXICON)
    analyser.lexicon.update({p.sentinel: p.valence for p in PHRASES if p.valence})
    for word in NOT_SENTIMENT:
        analyser.lexicon.pop(word, None)
    return analyser


def rewrite_phrases(text: str) -> str:
    """The text with each partnership phrase replaced by its sentinel token."""
    return _COMBINED.sub(_sentinel, text)


def _sentinel(match: re.Match[str]) -> str:
    return _SENTINELS[match.lastgroup or ""]


def _score(analyser: SentimentIntensityAnalyzer, text: str) -> Sentiment:
    score = float(analyser.polarity_scores(text)["compound"]) if text.strip() else 0.0
    return Sentiment(score, label_for(score))


def analyse(text: str) -> Sentiment:
    """The sentiment of one comment, adapted to partnership language."""
    return _score(_adapted_analyser(), rewrite_phrases(text[:MAX_ANALYSED_CHARS]))


def comment_sentiment(comment: str | None) -> float | None:
    """The score stored with a saved comment (``answers.sentiment``): ``analyse``'s, or None without a comment.

    Scored once when the comment is saved, so the weekly digest need not score every comment of the week again.
    """
    return analyse(comment).score if comment else None


def plain_vader(text: str) -> Sentiment:
    """The same text scored by unmodified VADER, for comparisons."""
    return _score(_plain_analyser(), text[:MAX_ANALYSED_CHARS])
