"""heron.yml: loading, unknown keys, and the checks ``heron validate`` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.collector import check_config
from heron.config import ServeConfig, load_config
from heron.errors import ConfigError

TOKEN = "t" * 20


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "heron.yml"
    path.write_text(text)
    return path


def test_defaults_bind_loopback() -> None:
    config = ServeConfig.default()
    assert config.http.host == "127.0.0.1" and config.http.port == 8080
    assert [s.type for s in config.sources] == ["hec", "bulk", "otlp"]
    syslog = load_config_text("sources: [{type: syslog, protocol: tls, tls: {cert: a, key: b}}]")
    assert syslog.sources[0].host == "127.0.0.1"  # type: ignore[union-attr]
    assert syslog.sources[0].listen_port == 6514  # type: ignore[union-attr]


def load_config_text(text: str) -> ServeConfig:
    import yaml

    return ServeConfig.model_validate(yaml.safe_load(text))


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "htp: {port: 1}\nsources:\n  - {type: syslog, protocl: tcp}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "htp: unknown key" in text
    assert "sources.0.syslog.protocl: unknown key" in text


def test_bad_values(tmp_path: Path) -> None:
    for body, needle in [
        ("http: {port: 70000}", "http.port"),
        ("sources: [{type: kafka}]", "sources.0"),
        ("sources: [{type: syslog, protocol: sctp}]", "protocol"),
        ("timezone: Mars/Base", "timezone"),
        ("tokens: [short]", "at least 16 characters"),
        ("- just a list", "top level must be a mapping"),
        ("http: [unclosed", "not valid YAML"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            load_config(write(tmp_path, body))


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "data_dir: data\nsources:\n  - {type: tail, paths: ['logs/*.log']}\n"
        "  - {type: syslog, protocol: tls, tls: {cert: c.pem, key: k.pem}}\n",
    )
    config = load_config(path)
    assert config.data_dir == tmp_path / "data"
    assert config.sources[0].paths == [str(tmp_path / "logs/*.log")]  # type: ignore[union-attr]
    assert config.sources[1].tls.cert == tmp_path / "c.pem"  # type: ignore[union-attr]


def test_port_clashes_and_names() -> None:
    config = load_config_text(f"""
tokens: [{TOKEN}]
http: {{port: 9000}}
sources:
  - {{type: syslog, protocol: tcp, port: 9000}}
  - {{type: syslog, protocol: udp, port: 9000}}
  - {{type: syslog, protocol: tcp, port: 5514, host: 0.0.0.0}}
  - {{type: syslog, protocol: tls, port: 5514, name: again,
     tls: {{cert: /nope.pem, key: /nope.key}}}}
  - {{type: hec, port: 8088}}
  - {{type: bulk, port: 8088}}
  - {{type: tail, paths: [/tmp/x], name: again}}
""")
    problems = "\n".join(check_config(config))
    assert "tcp 127.0.0.1:9000 is already taken by http" in problems
    assert "udp" not in problems.split("9000 is already")[0].splitlines()[-1]  # UDP ≠ TCP
    assert "tcp 127.0.0.1:5514 is already taken by sources.2" in problems
    assert "tcp 127.0.0.1:8088 is already taken by sources.4 (hec)" in problems
    assert "no such file: /nope.pem" in problems
    assert "the name 'again' is used twice" in problems


def test_tls_checks(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("not a certificate")
    key = tmp_path / "k.pem"
    key.write_text("not a key")
    config = load_config_text(f"""
sources:
  - {{type: syslog, protocol: tls, port: 6514}}
  - {{type: syslog, protocol: tcp, port: 6515, tls: {{cert: {cert}, key: {key}}}}}
  - {{type: syslog, protocol: tls, port: 6516, tls: {{cert: {cert}, key: {key}}}}}
""")
    problems = "\n".join(check_config(config))
    assert "protocol tls needs a tls section" in problems
    assert "tls is only used with protocol: tls" in problems
    assert "cannot load the certificate or key" in problems


def test_formats_and_rules() -> None:
    config = load_config_text("""
rules: [/no/such/rules]
sources:
  - {type: syslog, format: nonsense}
  - {type: tail, paths: [/tmp/x], format: rfc5424}
""")
    problems = "\n".join(check_config(config))
    assert "unknown format 'nonsense'" in problems
    assert "sources.1" not in problems
    assert "rules: no such file or folder: /no/such/rules" in problems


def test_a_good_config_has_no_problems() -> None:
    config = load_config_text(f"""
tokens: [{TOKEN}]
sources:
  - {{type: syslog, protocol: udp, port: 5514}}
  - {{type: syslog, protocol: tcp, port: 5514, framing: octet, format: rfc5424}}
  - {{type: hec, ack: true}}
  - {{type: bulk, port: 9200}}
  - {{type: otlp}}
  - {{type: tail, paths: [/var/log/auth.log*]}}
""")
    assert check_config(config) == []


def test_alert_settings_section(tmp_path: Path) -> None:
    from heron.alerts.settings import AlertSettings

    config = load_config(write(tmp_path, "alerts: {dedup_window: 2h, risk_threshold: 80}\n"))
    settings = AlertSettings.from_mapping(config.alerts)
    assert settings.dedup_window_ns == 2 * 3600 * 10**9 and settings.risk_threshold == 80
    for bad, reason in [
        ("{dedup_windw: 2h}", "unknown setting 'dedup_windw'"),
        ("{risk_half_life: soon}", "not a duration"),
        ("{risk_alert_level: urgent}", "use one of"),
    ]:
        with pytest.raises(ConfigError, match=reason):
            load_config(write(tmp_path, f"alerts: {bad}\n"))
