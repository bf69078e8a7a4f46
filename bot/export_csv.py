"""The export's CSV renderings (``partnerpulse export --format csv | scorecard-csv``): aggregates only.

Pure functions of the report (``bot.services.export_models.ExportReport``): no Slack, no database. A withheld side
exports no numbers at all (its cells are empty and the ``withheld`` column says why), and no comment is reproduced.
The scorecards' aggregates are a second CSV, so the weekly CSV's columns never change.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from bot.services.export_models import ExportReport
from bot.services.figures_format import format_gap, format_score
from bot.services.partnership_models import Side
from bot.services.review_models import ScorecardSide

#: One row per week, side and figure: first the side's health index (``dimension`` ``health_index``, no subject),
#: then each subject and dimension asked that week. ``average`` is the figure as every surface shows it (one
#: decimal, halves up); ``previous_average`` the same items the last time they were asked (the health index: the
#: four weeks before); ``gap`` is provider − client, only between ratings of the same subject.
CSV_COLUMNS = (
    "week_start",
    "side",
    "organisation",
    "subject",
    "dimension",
    "average",
    "answers",
    "previous_average",
    "gap",
    "responded",
    "asked",
    "withheld",
)
HEALTH_INDEX = "health_index"
#: ``--format scorecard-csv``: one row per scorecard, rated side and dimension. ``self_*`` is how the rated side
#: rates itself, ``other_*`` how the other side rates it; ``withheld`` names whose raters were below the threshold.
SCORECARD_CSV_COLUMNS = (
    "period",
    "dimension",
    "rated_side",
    "self_average",
    "self_answers",
    "other_average",
    "other_answers",
    "gap",
    "withheld",
)


def _number(value: Decimal | None) -> str:
    """A figure in a CSV cell: as every surface writes it, empty when there is none."""
    return "" if value is None else format_score(value)


def _signed_number(value: Decimal | None) -> str:
    return "" if value is None else format_gap(value, ascii_sign=True)


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is made inert."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: ExportReport) -> str:
    """One row per week, side and figure (``CSV_COLUMNS``): aggregates only, empty for a withheld side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for view in report.weeks:
        for side in Side:
            said = view.side(side)
            withheld = said.withheld or view.side(side.other).withheld
            part = said.participation
            h = view.health_of(side)
            rows: list[tuple[str, str, Decimal | None, str, Decimal | None, Decimal | None]] = [
                ("", HEALTH_INDEX, h.value, str(h.answers) if h.value is not None else "", h.previous, None)
            ]
            for item in view.items:
                f = item.side(side)
                rows.append(
                    (
                        item.subject or "",
                        item.dimension,
                        f.average,
                        str(f.answers) if f.average is not None else "",
                        f.previous,
                        None if withheld else item.gap,
                    )
                )
            for subject, dimension, value, answers, previous, gap in rows:
                numbers = (
                    ["", "", "", "", "", ""]
                    if said.withheld
                    else [
                        _number(value),
                        answers,
                        _number(previous),
                        _signed_number(gap),
                        str(part.responded),
                        str(part.asked),
                    ]
                )
                writer.writerow(
                    [
                        view.week_start.isoformat(),
                        side.value,
                        _cell(said.org),
                        subject,
                        dimension,
                        *numbers,
                        "yes" if said.withheld else "no",
                    ]
                )
    return out.getvalue()


def _withheld_raters(rated: ScorecardSide, other: ScorecardSide) -> str:
    """Whose ratings were withheld (decided per side and scorecard): the rated side's own, the other side's, both
    or neither."""
    return {(False, False): "no", (True, False): "self", (False, True): "other", (True, True): "both"}[
        (rated.withheld, other.withheld)
    ]


def _answers(average: Decimal | None, rater: ScorecardSide) -> str:
    """How many people of the rater side gave the average (each rates every dimension once); empty when withheld."""
    if rater.withheld:
        return ""
    return str(rater.respondents) if average is not None else "0"


def render_scorecard_csv(report: ExportReport) -> str:
    """``--format scorecard-csv``: per scorecard, rated side and dimension, the self rating, the other side's rating
    and the gap (provider − client, as everywhere), aggregates only; a withheld side's raters give empty numbers,
    and no gap."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCORECARD_CSV_COLUMNS)
    for card in report.scorecards:
        for rated in card.sides:
            other = card.sides[1] if rated.side is Side.CLIENT else card.sides[0]
            for row in rated.about:
                writer.writerow(
                    [
                        _cell(card.scorecard.period),
                        row.dimension,
                        rated.side.value,
                        "" if rated.withheld else _number(row.self_rating),
                        _answers(row.self_rating, rated),
                        "" if other.withheld else _number(row.other_rating),
                        _answers(row.other_rating, other),
                        "" if rated.withheld or other.withheld else _signed_number(row.gap),
                        _withheld_raters(rated, other),
                    ]
                )
    return out.getvalue()
