"""Keyword (field-less) rules: every value searched, and the prefilter that screens them."""

from __future__ import annotations

from sigma_helpers import check


def keywords(words: list[str]) -> str:
    """A detection matching any of ``words`` in any value."""
    listed = "\n".join(f"        - '{w}'" for w in words)
    return f"""
    keywords:
{listed}
    condition: keywords
    """


def test_keywords_search_every_value() -> None:
    detection = keywords(["sekurlsa::logonpasswords", "mimi*katz"])
    events = [
        {"Channel": "Security", "EventID": 4688, "CommandLine": "x SEKURLSA::LogonPasswords y"},
        {"Channel": "Application", "EventID": 1, "Data": ["a", "the mimi-katz tool"]},
        {"Channel": "System", "EventID": 7, "Message": "nothing here", "Other": 5},
        {"Channel": "System", "EventID": 7, "A": "mimi", "B": "katz"},  # not across values
    ]
    assert check(detection, events, logsource="product: windows") == [True, True, False, False]


def test_keyword_screen_sees_list_values_and_numbers() -> None:
    # Many keywords (a screened set) in a list value, and a digits-only keyword in an int.
    detection = keywords([f"kiwi::word{i}" for i in range(10)])
    events = [
        {"Channel": "Application", "EventID": 1, "Data": ["x", "a KIWI::WORD7 b"]},
        {"Channel": "Application", "EventID": 1, "Data": ["kiwi::wordx"]},
    ]
    assert check(detection, events, logsource="product: windows") == [True, False]
    events = [
        {"Channel": "Application", "EventID": 1, "Port": 31337},
        {"Channel": "X", "EventID": 1},
    ]
    assert check(keywords(["31337"]), events, logsource="product: windows") == [True, False]


def test_keyword_screen_reads_case_and_non_ascii_text_as_lower_does() -> None:
    # The screen reads ASCII values with their case; other text is lowercased first, as
    # the keyword test does: "İ" lowers to "i" and a combining dot, so "...KIWİ" holds
    # "kiwi" for the rule though no case-insensitive regex would say so.
    words = [f"kiwi::word{i}" for i in range(10)] + ["eo.oe.kiwi", "café::été", "ключ::x"]
    detection = keywords(words)
    events = [
        {"Channel": "Application", "EventID": 1, "Data": "run Kiwi::Word3 now", "Pid": 4},
        {"Channel": "Application", "EventID": 1, "Data": "EO.OE.KIWİ"},
        {"Channel": "Application", "EventID": 1, "Data": "Ünïcode KIWI::WORD9"},
        {"Channel": "Application", "EventID": 1, "Data": "Ünïcode kiwi::wordx", "Pid": 9},
        {"Channel": "Application", "EventID": 1, "Data": "eo.oe.kiw"},
        # Latin-1 text ("®"), lowercased as bytes: "É" is found as "é".
        {"Channel": "Application", "EventID": 1, "Data": "Microsoft® CAFÉ::ÉTÉ"},
        {"Channel": "Application", "EventID": 1, "Data": "Microsoft® café::et"},
        {"Channel": "Application", "EventID": 1, "Data": "Microsoft® KLJUCH::X"},
        {"Channel": "Application", "EventID": 1, "Data": "® КЛЮЧ::X"},
    ]
    assert check(detection, events, logsource="product: windows") == [
        True,
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
    ]


def test_latin1_bytes_lower_as_str_lower_does() -> None:
    from heron.detect.sigma.index import LATIN1_LOWER

    text = "".join(map(chr, range(256)))
    assert text.encode("latin-1").translate(LATIN1_LOWER) == text.lower().encode("latin-1")
