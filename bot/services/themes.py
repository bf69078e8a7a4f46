"""Recurring themes: the phrases that several people on one side keep using, without any external model.

A weekly digest has a few dozen comments per side at most; counting words and short phrases is enough
to show what people keep coming back to ("handover", "test environments", "behind schedule"), and it is
explainable and needs no model. The rules:

- A phrase is 1 to 3 words that never crosses punctuation and neither starts nor ends with a stopword
  (inside it they are fine: "ahead of schedule"). Negations may start a phrase ("no handover") but are
  never a theme on their own.
- Phrases are counted by the number of distinct comments they appear in: one person repeating a word is
  not a theme. Only phrases in at least ``min_comments`` comments are kept.
- A shorter phrase that only ever appears inside a longer kept one ("test", "test environments") adds
  nothing, so it is dropped and the longer phrase shown.
- Slack markup (mentions ``<@U123>``, ``<!channel>``, ``<#C123|name>``, links, ``:emoji:`` codes) and
  bare URLs, e-mail addresses and ``@names`` are removed first, so they never become a theme.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

MAX_WORDS = 3

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else even ever every few for
    from further get gets got had has have having he her here hers herself him himself his how i if in into is it
    its itself just let lets me might more most much must my myself nor now of off on once only or other our ours
    ourselves out over own per quite rather really same shall she should since so some such than that the their
    theirs them themselves then there these they this those through to too under until up upon us very via was
    we were what when where which while who whom why will with within would yet you your yours yourself
    yourselves i'm i've i'd i'll we're we've we'd we'll you're you've they're they've it's that's there's
    let's can't won't don't doesn't didn't isn't aren't wasn't weren't haven't hasn't hadn't
    """.split()
)

#: May start a phrase ("no handover", "not tested") but are not a theme on their own.
NEGATIONS = frozenset({"no", "not", "never", "nothing", "nobody", "without"})

# Slack's angle-bracket markup, links, e-mail addresses, @names and :emoji: codes.
_MARKUP = re.compile(r"<[^>]*>|\b(?:https?://|www\.)\S+|\S+@\S+\.\S+|@\S+|:[a-z0-9_+-]+:", re.IGNORECASE)
# Punctuation that ends a phrase: sentence and clause marks, brackets, quotes, dashes between spaces.
_BREAK = re.compile(r"""[.,;:!?()\[\]{}"“”/|]+|\s[-–—]+\s|\n""")
# Letters and digits in any script, with inner apostrophes and hyphens ("don't", "go-live").
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


@dataclass(frozen=True)
class Theme:
    phrase: str
    comments: int


def clauses(comment: str) -> list[list[str]]:
    """The comment's words, lower-cased and without markup, in runs that no phrase may cross."""
    text = _MARKUP.sub(" . ", comment.lower())
    runs: list[list[str]] = []
    for part in _BREAK.split(text):
        words = [w.replace("’", "'").removesuffix("'s") for w in _WORD.findall(part)]
        if words:
            runs.append(words)
    return runs


def _is_phrase(words: tuple[str, ...]) -> bool:
    first, last = words[0], words[-1]
    if len(words) == 1:
        return first not in STOPWORDS and first not in NEGATIONS and len(first) > 1 and not first.isdigit()
    if first in STOPWORDS or last in STOPWORDS or last in NEGATIONS:
        return False
    return not all(w.isdigit() for w in words)


def phrases(comment: str) -> set[tuple[str, ...]]:
    """Every 1- to 3-word phrase in the comment, each once (the phrases ``_is_phrase`` accepts)."""
    return _grams(clauses(comment))


def _grams(runs: Sequence[Sequence[str]]) -> set[tuple[str, ...]]:
    """``phrases`` of a comment's ``clauses``. The digest runs this on every comment of the week, so each word is
    classified once rather than once per phrase it is part of: a phrase of several words may not start with a
    stopword, may not end with a stopword or a negation, and may not be all digits.
    """
    found: set[tuple[str, ...]] = set()
    for words in runs:
        n = len(words)
        stop = [w in STOPWORDS for w in words]
        bad_end = [stop[i] or w in NEGATIONS for i, w in enumerate(words)]
        digit = [w.isdigit() for w in words]
        for start, first in enumerate(words):
            if not bad_end[start] and not digit[start] and len(first) > 1:
                found.add((first,))
            if stop[start]:
                continue
            for end in range(start + 1, min(start + MAX_WORDS, n)):
                if not bad_end[end] and not (digit[start] and all(digit[start + 1 : end + 1])):
                    found.add(tuple(words[start : end + 1]))
    return found


def _split_at_rare(runs: list[list[str]], common: Collection[str]) -> list[list[str]]:
    """The runs cut at every word not in ``common``, which is dropped: no phrase containing it is kept."""
    out: list[list[str]] = []
    for words in runs:
        part: list[str] = []
        for w in words:
            if w in common:
                part.append(w)
            elif part:
                out.append(part)
                part = []
        if part:
            out.append(part)
    return out


def _shorter_parts(gram: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for size in range(1, len(gram)):
        for start in range(len(gram) - size + 1):
            yield gram[start : start + size]


def recurring_phrases(comments: Sequence[str], limit: int = 5, min_comments: int = 2) -> list[Theme]:
    """The ``limit`` phrases found in the most comments (at least ``min_comments``), longest first on ties.

    A phrase is in no more comments than any of its words, so words in fewer than ``min_comments`` comments are
    cut out first and phrases are only formed from the rest: the same themes, from far fewer candidates.
    """
    least = max(min_comments, 1)
    runs = [clauses(comment) for comment in comments]
    if least > 1:
        in_comments = Counter(w for comment_runs in runs for w in {w for words in comment_runs for w in words})
        common = {w for w, n in in_comments.items() if n >= least}
        runs = [_split_at_rare(comment_runs, common) for comment_runs in runs]
    counts: Counter[tuple[str, ...]] = Counter()
    for comment_runs in runs:
        counts.update(_grams(comment_runs))
    kept = {gram: n for gram, n in counts.items() if n >= least}
    subsumed = {part for gram, n in kept.items() for part in _shorter_parts(gram) if kept.get(part) == n}
    ranked = sorted((gram for gram in kept if gram not in subsumed), key=lambda g: (-kept[g], -len(g), g))
    return [Theme(" ".join(gram), kept[gram]) for gram in ranked[:limit]]
