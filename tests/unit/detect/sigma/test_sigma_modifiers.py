"""Every Sigma modifier SigmaHQ uses, with exact semantics, on hand-written rules and events."""

from __future__ import annotations

import base64

import pytest
from sigma_helpers import SYSMON, check, compile_text, matcher, proc, rule_yaml

from heron.detect.sigma.ir import Leaf, RegexTest
from heron.detect.sigma.predicates import leaf_predicate, long_run_length, re2_searcher
from heron.detect.sigma.view import EventView

SECURITY = "security"


def test_strings_are_case_insensitive_by_default() -> None:
    detection = """
    selection:
        Image: 'C:\\Windows\\System32\\cmd.exe'
    condition: selection
    """
    events = [
        proc(Image="c:\\windows\\system32\\CMD.EXE"),
        proc(Image="C:\\Windows\\System32\\cmd.exe "),
        proc(Image="C:\\Windows\\System32\\cmd.exe"),
    ]
    assert check(detection, events) == [True, False, True]


def test_cased_modifier_keeps_case() -> None:
    detection = """
    selection:
        CommandLine|cased|contains: 'Invoke-Mimikatz'
    condition: selection
    """
    events = [proc(CommandLine="x Invoke-Mimikatz y"), proc(CommandLine="x invoke-mimikatz y")]
    assert check(detection, events) == [True, False]


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("*\\cmd?.exe", "C:\\x\\cmd1.exe", True),
        ("*\\cmd?.exe", "C:\\x\\cmd.exe", False),
        ("*\\cmd?.exe", "C:\\x\\cmd12.exe", False),
        ("C:\\Temp\\\\*\\run.exe", "c:\\temp\\a\\b\\RUN.exe", True),
        ("C:\\Temp\\\\*\\run.exe", "c:\\temp\\run.exe", False),
        ("C:\\Temp\\*\\run.exe", "c:\\temp\\a\\run.exe", False),  # \* is a literal star
        ("C:\\Temp\\*\\run.exe", "c:\\temp*\\run.exe", True),
        ("what\\?", "what?", True),
        ("what\\?", "whatx", False),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axxb", False),
        ("foo\\\\*", "foo\\bar", True),  # escaped backslash, then a wildcard
        ("foo\\\\*", "foobar", False),
        ("*a*b*c*", "xxAyyBzzC", True),
        ("*a*b*c*", "xxCyyBzzA", False),
        ("ab*ba", "aba", False),  # prefix and suffix may not overlap
        ("ab*ba", "abba", True),
        ("", "", True),
        ("", "x", False),
    ],
)
def test_wildcards_and_escapes(value: str, text: str, expected: bool) -> None:
    detection = f"""
    selection:
        CommandLine: '{value}'
    condition: selection
    """
    assert check(detection, [proc(CommandLine=text)]) == [expected]


def test_contains_startswith_endswith() -> None:
    detection = """
    sel_contains:
        CommandLine|contains: 'dump'
    sel_start:
        Image|startswith: 'C:\\Users\\'
    sel_end:
        ParentImage|endswith: '\\winword.exe'
    condition: sel_contains and sel_start and sel_end
    """
    good = proc(
        CommandLine="x DUMP y", Image="c:\\users\\bob\\a.exe", ParentImage="C:\\o\\WINWORD.EXE"
    )
    events = [
        good,
        {**good, "CommandLine": "x dum y"},
        {**good, "Image": "D:\\c:\\users\\a.exe"},
        {**good, "ParentImage": "C:\\o\\winword.exe.bak"},
    ]
    assert check(detection, events) == [True, False, False, False]


def test_all_with_contains_needs_every_value() -> None:
    detection = """
    selection:
        CommandLine|contains|all:
            - 'net'
            - 'user'
            - '/add'
    condition: selection
    """
    events = [
        proc(CommandLine="net user bob pw /add"),
        proc(CommandLine="net user bob"),
        proc(CommandLine=["net user", "/add"]),  # list value: each value in some element
    ]
    assert check(detection, events) == [True, False, True]


@pytest.mark.parametrize(
    ("dash", "expected"),
    [("-", True), ("/", True), ("\u2013", True), ("\u2014", True), ("\u2015", True), ("+", False)],
)
def test_windash_variants(dash: str, expected: bool) -> None:
    detection = """
    selection:
        CommandLine|windash|contains: ' -enc '
    condition: selection
    """
    assert check(detection, [proc(CommandLine=f"powershell {dash}enc AAAA")]) == [expected]


def test_base64_exact_value() -> None:
    detection = """
    selection:
        CommandLine|base64|contains: 'http://'
    condition: selection
    """
    encoded = base64.b64encode(b"http://").decode()
    assert check(detection, [proc(CommandLine=f"x {encoded} y"), proc(CommandLine="x")]) == [
        True,
        False,
    ]


@pytest.mark.parametrize("offset", range(6))
def test_base64offset_matches_at_every_alignment(offset: int) -> None:
    detection = """
    selection:
        CommandLine|base64offset|contains: 'Invoke-Expression'
    condition: selection
    """
    payload = b"A" * offset + b"Invoke-Expression (New-Object Net.WebClient)"
    encoded = base64.b64encode(payload).decode()
    other = base64.b64encode(b"A" * offset + b"Get-ChildItem somewhere else").decode()
    events = [
        proc(CommandLine=f"powershell -e {encoded}"),
        proc(CommandLine=f"powershell -e {other}"),
    ]
    assert check(detection, events) == [True, False]


@pytest.mark.parametrize("offset", range(4))
def test_wide_base64offset_powershell_encoded_command(offset: int) -> None:
    detection = """
    selection:
        CommandLine|wide|base64offset|contains: 'IEX'
    condition: selection
    """
    script = ("$" * offset + "IEX (iwr http://x)").encode("utf-16le")
    encoded = base64.b64encode(script).decode()
    benign = base64.b64encode(("$" * offset + "Get-Date").encode("utf-16le")).decode()
    events = [
        proc(CommandLine=f"powershell -enc {encoded}"),
        proc(CommandLine=f"powershell -enc {benign}"),
    ]
    assert check(detection, events) == [True, False]


def test_utf16le_alias_and_utf16_with_byte_order_mark() -> None:
    # utf16le is the Sigma name pySigma calls wide; utf16 prefixes the FF FE byte order mark.
    wide = """
    selection:
        CommandLine|utf16le|base64offset|contains: 'whoami'
    condition: selection
    """
    bom = """
    selection:
        CommandLine|utf16|base64offset|contains: 'whoami'
    condition: selection
    """
    encoded = base64.b64encode("whoami /all".encode("utf-16le")).decode()
    with_bom = base64.b64encode(b"\xff\xfe" + "whoami /all".encode("utf-16le")).decode()
    assert check(wide, [proc(CommandLine=encoded)]) == [True]
    assert check(bom, [proc(CommandLine=with_bom), proc(CommandLine="d2hvYW1p")]) == [True, False]


@pytest.mark.parametrize(
    ("cidr", "ip", "expected"),
    [
        ("10.0.0.0/8", "10.1.2.3", True),
        ("10.0.0.0/8", "11.1.2.3", False),
        ("10.0.0.0/8", "::ffff:10.1.2.3", True),  # IPv4-mapped IPv6
        ("192.168.1.0/25", "192.168.1.127", True),
        ("192.168.1.0/25", "192.168.1.128", False),
        ("2001:db8::/32", "2001:db8:0:1::5", True),
        ("2001:db8::/32", "2001:DB8::1", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("fe80::/10", "fe80::1%eth0", True),
        ("fe80::/10", "not an ip", False),
        ("10.0.0.0/8", "2001:db8::1", False),
    ],
)
def test_cidr_ipv4_and_ipv6(cidr: str, ip: str, expected: bool) -> None:
    detection = f"""
    selection:
        DestinationIp|cidr: '{cidr}'
    condition: selection
    """
    event = {"Channel": SYSMON, "EventID": 3, "DestinationIp": ip}
    ls = "product: windows\n    category: network_connection"
    assert check(detection, [event], logsource=ls) == [expected]


@pytest.mark.parametrize(
    ("modifiers", "pattern", "text", "expected"),
    [
        ("re", "invoke-[a-z]+", "INVOKE-EXPRESSION", False),
        ("re|i", "invoke-[a-z]+", "INVOKE-EXPRESSION", True),
        ("re", "invoke-[a-z]+", "x invoke-expression y", True),  # unanchored search
        ("re", "^foo$", "a\nfoo\nb", False),
        ("re|m", "^foo$", "a\nfoo\nb", True),
        ("re", "a.b", "a\nb", False),
        ("re|s", "a.b", "a\nb", True),
        ("re|i|m", "^FOO$", "a\nfoo\nb", True),
    ],
)
def test_regex_and_its_flags(modifiers: str, pattern: str, text: str, expected: bool) -> None:
    detection = f"""
    selection:
        CommandLine|{modifiers}: '{pattern}'
    condition: selection
    """
    assert check(detection, [proc(CommandLine=text)]) == [expected]


@pytest.mark.parametrize("flags", ["", "i", "m", "s", "ims"])
@pytest.mark.parametrize("dot", [".", "(.)", "(?:.)"])
def test_long_run_regex_is_decided_by_length_as_re2_would(dot: str, flags: str) -> None:
    """``.{N,}`` is answered by a length test, not RE2 (whose first use builds a DFA state
    per counted position); the answer must be RE2's on every shape of text."""
    pattern = dot + "{12,}"
    assert long_run_length(pattern) == 12
    texts = [
        "",
        "x" * 11,
        "x" * 12,
        "x" * 40,
        "x" * 11 + "\n" + "x" * 11,
        "x" * 6 + "\n" + "x" * 12,
        "x" * 12 + "\n",
        "\n" * 30,
        "é" * 12,
        "\r" * 12,
        "ab\tcd" * 3,
    ]
    prefix = f"(?{flags})" if flags else ""
    reference = re2_searcher(prefix + pattern)
    ours = leaf_predicate(Leaf("CommandLine", RegexTest(pattern, flags)))
    for text in texts:
        assert ours(EventView({"CommandLine": text})) is reference(text), (pattern, flags, text)


@pytest.mark.parametrize("pattern", ["x{12,}", ".{12}", ".{1,12}", ".{12,}$", "^.{12,}", ".{,12}"])
def test_other_counted_patterns_stay_with_re2(pattern: str) -> None:
    assert long_run_length(pattern) is None


def test_regex_backreference_is_a_clean_error() -> None:
    entry = compile_text(
        rule_yaml(
            """
            selection:
                CommandLine|re: '(a)\\1'
            condition: selection
            """
        )
    )
    assert not entry.rules
    assert len(entry.errors) == 1
    assert entry.errors[0].rule_id == "00000000-0000-0000-0000-000000000001"
    assert "invalid" in entry.errors[0].reason.lower()


def test_null_means_absent_or_empty() -> None:
    detection = """
    selection:
        Image|endswith: '\\a.exe'
        ParentImage: null
    condition: selection
    """
    events = [
        proc(Image="C:\\a.exe"),
        proc(Image="C:\\a.exe", ParentImage=""),
        proc(Image="C:\\a.exe", ParentImage=None),
        proc(Image="C:\\a.exe", ParentImage="C:\\p.exe"),
    ]
    assert check(detection, events) == [True, True, True, False]


def test_exists_true_and_false() -> None:
    present = """
    selection:
        Image|endswith: '\\a.exe'
        ParentImage|exists: true
    condition: selection
    """
    absent = present.replace("exists: true", "exists: false")
    events = [
        proc(Image="C:\\a.exe", ParentImage="x"),
        proc(Image="C:\\a.exe"),
        proc(Image="C:\\a.exe", ParentImage=""),
    ]
    assert check(present, events) == [True, False, True]
    assert check(absent, events) == [False, True, False]


def test_one_of_selection_pattern_and_not_filter() -> None:
    detection = """
    selection_img:
        Image|endswith: '\\certutil.exe'
    selection_ofn:
        OriginalFileName: 'CertUtil.exe'
    selection_cli:
        CommandLine|contains: '-urlcache'
    filter_main:
        ParentImage|endswith: '\\trusted.exe'
    condition: 1 of selection_* and not 1 of filter_*
    """
    events = [
        proc(Image="C:\\certutil.exe"),
        proc(OriginalFileName="certutil.exe"),
        proc(CommandLine="x -urlcache y"),
        proc(CommandLine="x -urlcache y", ParentImage="C:\\trusted.exe"),
        proc(Image="C:\\other.exe"),
    ]
    assert check(detection, events) == [True, True, True, False, False]


def test_all_of_selection_pattern() -> None:
    detection = """
    selection_img:
        Image|endswith: '\\certutil.exe'
    selection_cli:
        CommandLine|contains: '-urlcache'
    condition: all of selection_*
    """
    events = [
        proc(Image="C:\\certutil.exe", CommandLine="-urlcache -f"),
        proc(Image="C:\\certutil.exe", CommandLine="-decode"),
    ]
    assert check(detection, events) == [True, False]


def test_numbers_match_ints_and_numeric_strings() -> None:
    detection = """
    selection:
        EventID: 4688
        NewProcessName|endswith: '\\whoami.exe'
    condition: selection
    """
    base = {"Channel": "Security", "NewProcessName": "C:\\Windows\\whoami.exe"}
    events = [
        {**base, "EventID": 4688},
        {**base, "EventID": "4688"},
        {**base, "EventID": 4689},
        {**base, "EventID": "not a number"},
    ]
    ls = "product: windows\n    service: security"
    assert check(detection, events, logsource=ls) == [True, True, False, False]


def test_quoted_number_matches_int_value_and_hex_status() -> None:
    detection = """
    selection:
        EventID: '4625'
        Status: 0xC000006D
    condition: selection
    """
    events = [
        {"Channel": "Security", "EventID": 4625, "Status": "0xc000006d"},
        {"Channel": "Security", "EventID": 4625, "Status": "0xc000006a"},
    ]
    ls = "product: windows\n    service: security"
    assert check(detection, events, logsource=ls) == [True, False]


@pytest.mark.parametrize(
    ("modifier", "value", "results"),
    [
        ("gt", 10, [False, False, True]),
        ("gte", 10, [False, True, True]),
        ("lt", 10, [True, False, False]),
        ("lte", 10, [True, True, False]),
    ],
)
def test_numeric_comparisons(modifier: str, value: int, results: list[bool]) -> None:
    detection = f"""
    selection:
        LogonType|{modifier}: {value}
    condition: selection
    """
    events = [
        {"Channel": "Security", "EventID": 4624, "LogonType": 3},
        {"Channel": "Security", "EventID": 4624, "LogonType": "10"},
        {"Channel": "Security", "EventID": 4624, "LogonType": 11},
    ]
    assert check(detection, events, logsource="product: windows\n    service: security") == results


def test_fieldref_compares_two_fields() -> None:
    detection = """
    selection:
        Image|fieldref: ParentImage
    condition: selection
    """
    events = [
        proc(Image="C:\\a.exe", ParentImage="c:\\A.EXE"),
        proc(Image="C:\\a.exe", ParentImage="C:\\b.exe"),
        proc(Image="C:\\a.exe"),
    ]
    assert check(detection, events) == [True, False, False]


def test_fieldref_with_endswith() -> None:
    detection = """
    selection:
        CommandLine|fieldref|endswith: Image
    condition: selection
    """
    events = [
        proc(Image="a.exe", CommandLine="run c:\\a.exe"),
        proc(Image="a.exe", CommandLine="a.exe run"),
    ]
    assert check(detection, events) == [True, False]


def test_list_valued_fields_match_any_element() -> None:
    detection = """
    selection:
        Data|contains: 'HostApplication=powershell'
    condition: selection
    """
    ls = "product: windows\n    category: ps_classic_start"
    events = [
        {
            "Channel": "Windows PowerShell",
            "EventID": 400,
            "Data": ["Available", "HostApplication=PowerShell -nop"],
        },
        {
            "Channel": "Windows PowerShell",
            "EventID": 400,
            "Data": ["Available", "HostApplication=cmd"],
        },
        {"Channel": "Windows PowerShell", "EventID": 403, "Data": ["HostApplication=powershell"]},
    ]
    assert check(detection, events, logsource=ls) == [True, False, False]


def test_lists_mixing_texts_with_other_values_match_as_text() -> None:
    detection = """
    selection:
        Data|endswith: '=powershell'
        Code: '42'
    condition: selection
    """
    ls = "product: windows\n    category: ps_classic_start"

    def event(data: list[object], code: list[object]) -> dict[str, object]:
        return {"Channel": "Windows PowerShell", "EventID": 400, "Data": data, "Code": code}

    events = [
        event([None, 7, "HostApplication=PowerShell"], [42]),
        event(["HostApplication=PowerShell", True], [None, "42"]),
        event(["HostApplication=PowerShell"], [4.2, 420]),
        event([None, 7], [42]),
    ]
    assert check(detection, events, logsource=ls) == [True, True, False, False]


def test_expand_with_defined_placeholder_values() -> None:
    detection = """
    selection:
        User|expand: '%admins%'
    condition: selection
    """
    m = matcher(detection, placeholders={"admins": ["CORP\\alice", "CORP\\bob"]})
    events = [proc(User="corp\\alice"), proc(User="CORP\\bob"), proc(User="CORP\\eve")]
    assert [i for i, _ in m.match_batch(events)] == [0, 1]


def test_expand_without_values_fails_clearly() -> None:
    entry = compile_text(
        rule_yaml(
            """
            selection:
                User|expand: '%admins%'
            condition: selection
            """
        )
    )
    assert not entry.rules
    assert "%admins%" in entry.errors[0].reason
    assert "placeholder" in entry.errors[0].reason


def test_boolean_values() -> None:
    detection = """
    selection:
        Signed: false
    condition: selection
    """
    ls = "product: windows\n    category: image_load"
    events = [
        {"Channel": SYSMON, "EventID": 7, "Signed": "false"},
        {"Channel": SYSMON, "EventID": 7, "Signed": False},
        {"Channel": SYSMON, "EventID": 7, "Signed": "true"},
    ]
    assert check(detection, events, logsource=ls) == [True, True, False]


def test_timestamp_part_modifiers() -> None:
    detection = """
    selection:
        UtcTime|hour: 20
        UtcTime|minute: 43
    condition: selection
    """
    events = [
        proc(UtcTime="2020-10-05T20:43:58.449Z"),
        proc(UtcTime="2020-10-05T21:43:58Z"),
        proc(UtcTime=1601930638449000000),  # ns since the epoch: 2020-10-05 20:43:58 UTC
        proc(UtcTime="not a time"),
    ]
    assert check(detection, events) == [True, False, True, False]
