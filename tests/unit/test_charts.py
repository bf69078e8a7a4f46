"""The digest's trend chart: a small, deterministic PNG, and its alt text."""

from __future__ import annotations

import struct
import threading
import zlib
from datetime import date, timedelta

from bot.services.charts import MAX_ALT_TEXT, alt_text, weekly_chart
from bot.services.digest_models import ChartLine, ChartSeries
from bot.services.partnership_models import Side

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEEKS = tuple(date(2026, 9, 18) + timedelta(weeks=i) for i in range(12))


def _series(client_values: tuple[float | None, ...], provider_values: tuple[float | None, ...], **kw: str) -> ChartSeries:
    return ChartSeries(
        title=kw.get("title", "Northwind desk: overall health by week"),
        weeks=WEEKS,
        lines=(
            ChartLine(Side.CLIENT, kw.get("client", "Northwind"), client_values),
            ChartLine(Side.PROVIDER, kw.get("provider", "Contoso"), provider_values),
        ),
    )


FULL = _series(
    (3.5, 3.6, 3.8, 4.0, 3.9, 3.8, 3.7, 3.6, 3.5, 3.4, 3.5, 3.25),
    (4.0, 4.1, 4.2, 4.0, 3.9, 3.8, 3.7, 3.9, 4.0, 4.1, 4.17, 3.0),
)
#: Weeks withheld or without answers are None: gaps in the lines (an isolated week shows as a marker).
WITHHELD = _series(
    (3.5, None, None, 4.0, 3.9, None, 3.7, None, 3.5, 3.4, None, None),
    (None, 4.1, None, None, None, None, None, None, None, None, 4.17, None),
)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    found, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data)
        found.append((kind, data))
        at += 12 + length
    return found


def test_the_chart_is_a_small_png() -> None:
    png = weekly_chart(FULL)
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) <= 100_000
    chunks = _chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (640, 320)


def test_the_same_series_gives_the_same_bytes() -> None:
    png = weekly_chart(FULL)
    assert weekly_chart(FULL) == png
    # No timestamp or software version in the metadata.
    text = b"".join(data for kind, data in _chunks(png) if kind in (b"tEXt", b"iTXt", b"zTXt", b"tIME"))
    assert b"Software" not in text and b"matplotlib" not in text.lower()
    assert not any(kind == b"tIME" for kind, _ in _chunks(png))


def test_withheld_weeks_leave_gaps() -> None:
    png = weekly_chart(WITHHELD)
    assert png.startswith(PNG_SIGNATURE) and len(png) <= 100_000
    assert png != weekly_chart(FULL)
    empty = weekly_chart(_series((None,) * 12, (None,) * 12))
    assert empty.startswith(PNG_SIGNATURE)


def test_user_text_cannot_break_the_chart() -> None:
    # "$...$" would be maths typesetting (and an unbalanced one an error) if names were parsed.
    odd = _series(FULL.lines[0].values, FULL.lines[1].values, title="Desk $x^2$ \\frac{", client="A $", provider="B" * 300)
    assert weekly_chart(odd).startswith(PNG_SIGNATURE)


def test_charts_can_be_drawn_in_threads() -> None:
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(weekly_chart(FULL))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1


def test_alt_text_names_the_latest_value_of_each_side() -> None:
    text = alt_text(FULL)
    assert text == (
        "Line chart of each side's partnership health index on a 1 to 5 scale per week over the 12 weeks from 18 Sep to "
        "4 Dec 2026: Northwind is at 3.3 this week; Contoso is at 3.0 this week."
    )


def test_alt_text_with_withheld_weeks() -> None:
    text = alt_text(WITHHELD)
    assert "Northwind has no result this week, last 3.4 in the week of 20 Nov" in text
    assert "Contoso has no result this week, last 4.2 in the week of 27 Nov" in text
    assert "has no results to show" in alt_text(_series((None,) * 12, (None,) * 12))
    assert len(alt_text(_series((None,) * 12, (None,) * 12, client="N" * 2000))) <= MAX_ALT_TEXT
