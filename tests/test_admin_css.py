"""The admin's colours, read from static/oms/admin.css without a browser: every badge and
diff row is readable in light and in dark mode (WCAG AA contrast, 4.5:1), each
compatibility class and each conflict severity has its own colour, and the diff rows use
variables, not fixed light colours. (The browser suite checks the rendered pages too.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "oms" / "admin.css").read_text()
DECLARED = dict(re.findall(r"(--oms-[\w-]+):\s*([^;]+);", CSS))
COMPAT = ("COMPATIBLE", "BACKWARD_COMPATIBLE", "MIGRATION_REQUIRED", "INCOMPATIBLE")
SEVERITIES = ("BLOCK", "ERROR", "WARN", "INFO")


def pair(variable: str) -> tuple[str, str]:
    """(light, dark) colour of an --oms-* variable."""
    value = DECLARED[variable].strip()
    found = re.fullmatch(r"light-dark\((#\w+),\s*(#\w+)\)", value)
    return (found[1], found[2]) if found else (value, value)


def rule(selector: str) -> str:
    found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert found, f"no rule for {selector}"
    return found[1]


def var_of(body: str, prop: str) -> str:
    return re.search(rf"(?<![-\w]){prop}:\s*var\((--oms-[\w-]+)\)", body)[1]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("name", COMPAT)
def test_each_compatibility_badge_is_readable_in_both_themes(name):
    body = rule(f".oms-compat-{name}")
    bg, fg = pair(var_of(body, "background")), pair(var_of(body, "color"))
    for theme in (0, 1):
        assert contrast(bg[theme], fg[theme]) >= 4.5, (name, theme, bg, fg)


def test_compatibility_classes_have_distinct_colours():
    colours = {pair(var_of(rule(f".oms-compat-{n}"), "background")) for n in COMPAT}
    assert len(colours) == len(COMPAT)  # backward compatible is not migration required


def test_severity_badges_are_white_on_their_own_colour_even_as_links():
    badge = rule("a.oms-sev-badge:visited, a.oms-sev-badge:hover")
    assert re.search(r"(?<![-\w])color:\s*#fff\b", badge)
    colours = [DECLARED[f"--oms-sev-{s}"].strip() for s in SEVERITIES]
    assert len(set(colours)) == len(SEVERITIES)
    for colour in colours:
        assert contrast(colour, "#ffffff") >= 4.5, colour


@pytest.mark.parametrize(
    "selector",
    [
        "table.oms-sbs tr.oms-added td.oms-new, table.oms-sbs tr.oms-added td.oms-summary",
        "table.oms-sbs tr.oms-removed td.oms-old, table.oms-sbs tr.oms-removed td.oms-summary",
        "table.oms-sbs tr.oms-modified td.oms-old, table.oms-sbs tr.oms-modified td.oms-new",
    ],
)
def test_changed_diff_rows_follow_the_theme_and_stay_readable(selector):
    body = rule(selector)
    bg, fg = pair(var_of(body, "background")), pair(var_of(body, "color"))
    assert bg[0] != bg[1], "the same background in light and dark mode"
    for theme in (0, 1):
        assert contrast(bg[theme], fg[theme]) >= 4.5, (selector, theme)
