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


def test_keyword_screen_reads_non_ascii_text_with_ascii_keywords() -> None:
    # ASCII keywords on text beyond ASCII, read as ``lower()`` reads it: "İ" becomes
    # "i" and a combining dot, the Kelvin sign a "k".
    detection = keywords([f"kiwi::word{i}" for i in range(10)] + ["eo.oe.kiwi"])
    events = [
        {"Channel": "Application", "EventID": 1, "Data": "Ünïcode KIWI::WORD9"},
        {"Channel": "Application", "EventID": 1, "Data": "Ünïcode kiwi::wordx"},
        {"Channel": "Application", "EventID": 1, "Data": "EO.OE.KIWİ"},
        {"Channel": "Application", "EventID": 1, "Data": "EO.OE.KİWI"},  # "ki̇wi": no
        {"Channel": "Application", "EventID": 1, "Data": "\u212aIWI::WORD2 (Kelvin sign)"},
        {"Channel": "Application", "EventID": 1, "Data": "ключ kiwi::word4"},
    ]
    assert check(detection, events, logsource="product: windows") == [
        True,
        False,
        True,
        False,
        True,
        True,
    ]


def test_keyword_screen_sees_every_value_type_and_skips_bookkeeping() -> None:
    # Booleans, floats and lists are searched as the keyword test sees them; a JSON
    # record in event.original is not, nor is the file path.
    detection = keywords([f"kiwi::word{i}" for i in range(9)] + ["true", "2.5"])
    base = {"Channel": "Application", "EventID": 1}
    events = [
        {**base, "Flag": True},
        {**base, "Ratio": 2.5},
        {**base, "Data": [1, "x KIWI::WORD1"]},
        {**base, "event.original": '{"Data": "kiwi::word2"}', "Data": "plain"},
        {**base, "event.original": "kiwi::word3 in a raw line"},
        {**base, "event.original": "kiwi::word3 in a raw line", "message": "other"},
        {**base, "log.file.path": "/logs/kiwi::word5.log", "Data": "plain"},
    ]
    assert check(detection, events, logsource="product: windows") == [
        True,
        True,
        True,
        False,
        True,
        False,
        False,
    ]
