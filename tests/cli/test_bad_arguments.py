"""Every ``egov`` command answers a mistake with one clear line and a non-zero exit, never a traceback.

The walk discovers the commands from the click tree (``egov``'s lazy groups included), so a new
command is walked without being listed here. For each command it gives:

- an option that does not exist;
- nothing, when the command has a required parameter;
- each typed parameter a value of the wrong type (a word for a number, a choice that is not offered,
  a path that does not exist, a file where a folder is wanted...), every other required parameter a
  valid value;
- a bad ``EGOV_*`` setting (each command reads the run's one settings object).

Then the situations of issue 14 that need more than a wrong word: a taken port, a stopped or
malformed simulator URL, a manifest missing fields, a missing output folder, a file that is not a
database, a re-signed document...
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from cli.main import cli

ISOLATED = {"EGOV_CONFIG_FILE": "/nonexistent/egov.env"}
"""No ``egov.env`` of the working directory takes part."""


def _walk(command: click.Command, path: tuple[str, ...], ctx: click.Context) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from _walk(sub, (*path, name), click.Context(sub, parent=ctx, info_name=name))


def _command(path: tuple[str, ...]) -> click.Command:
    ctx = click.Context(cli, info_name="egov")
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(ctx, name)
        assert found is not None
        command, ctx = found, click.Context(found, parent=ctx, info_name=name)
    return command


COMMANDS = [path for path in _walk(cli, (), click.Context(cli, info_name="egov")) if path]
LEAVES = [path for path in COMMANDS if not isinstance(_command(path), click.Group)]


def _run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env={**ISOLATED, **(env or {})}, catch_exceptions=True)


def _clear_failure(result: Result, *, exit_code: int | None = None) -> str:
    """The failure's one line: a usage error (``Error: ...``) or an error of the project (``egov: ...``
    and its ``hint:``); no traceback, a non-zero exit."""
    assert result.exit_code != 0, result.output
    if exit_code is not None:
        assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("Error:", "egov:"))]
    assert len(lines) == 1, result.output
    return lines[0]


def test_the_walk_finds_every_command() -> None:
    from cli.main import SUBCOMMANDS

    assert {path[0] for path in COMMANDS} == set(SUBCOMMANDS)
    assert ("sim", "fault", "add") in LEAVES and ("flow", "run") in LEAVES and ("id", "check") in LEAVES


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_an_option_that_does_not_exist(path: tuple[str, ...]) -> None:
    line = _clear_failure(_run([*path, "--no-such-option"]), exit_code=2)
    assert "--no-such-option" in line


@pytest.mark.parametrize("path", [p for p in LEAVES if any(q.required for q in _command(p).params)], ids=" ".join)
def test_a_missing_required_parameter(path: tuple[str, ...]) -> None:
    """Every command with a required parameter (the others run without one) refuses to run without it."""
    _clear_failure(_run(list(path)), exit_code=2)


@pytest.mark.parametrize("setting", ["EGOV_METRICS_PORT=abc", "EGOV_TRUST_ANCHORS=/etc/ca.pem",
                                     "EGOV_LOG_LEVEL=LOUD", "EGOV_REVOCATION_POLICY=foo"])
@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_a_bad_setting(path: tuple[str, ...], setting: str) -> None:
    name, value = setting.split("=", 1)
    line = _clear_failure(_run(list(path), env={name: value}), exit_code=1)
    assert name in line


# --------------------------------------------------------------------------- typed values


def _valid(param: click.Parameter, tmp: Path) -> str:
    """A value ``param`` accepts."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, click.Path):
        if kind.file_okay:
            target = tmp / "valid-file"
            target.write_text("<a/>", encoding="utf-8")
            return str(target)
        return str(tmp)
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        low = getattr(kind, "min", None)
        return str(low if low is not None else 1)
    return "x"


def _wrong(param: click.Parameter, tmp: Path | None) -> str | None:
    """A value of the wrong type for ``param`` (files made under ``tmp``; None: only say whether there
    is one), or None when any word is of its type."""
    tmp = tmp or Path("/nonexistent")
    kind = param.type
    if isinstance(kind, click.Choice):
        return "no-such-choice"
    if isinstance(kind, click.Path):
        if kind.exists:
            return str(tmp / "does-not-exist")
        if not kind.file_okay:
            target = tmp / "a-file"
            if tmp.is_dir():
                target.write_text("x", encoding="utf-8")
            return str(target)
        if not kind.dir_okay:
            return str(tmp)
        return None
    if isinstance(kind, click.types.IntRange | click.types.FloatRange):
        high = getattr(kind, "max", None)
        return str(high * 10 + 1 if high is not None else -(10 ** 6))
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return "abc"
    return None


def _args(param: click.Parameter, value: str) -> list[str]:
    if isinstance(param, click.Option):
        return [param.opts[0], value]
    return [value]


def _typed_cases() -> list[tuple[tuple[str, ...], str]]:
    cases = []
    for path in LEAVES:
        for param in _command(path).params:
            if isinstance(param, click.Option) and (param.is_flag or param.hidden):
                continue
            if param.name and _wrong(param, None) is not None:
                cases.append((path, param.name))
    return cases


@pytest.mark.parametrize(("path", "name"), _typed_cases(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else v)
def test_a_value_of_the_wrong_type(path: tuple[str, ...], name: str, tmp_path: Path) -> None:
    command = _command(path)
    args: list[str] = []
    for param in command.params:
        if param.name == name:
            wrong = _wrong(param, tmp_path)
            assert wrong is not None
            args += _args(param, wrong)
        elif param.required:
            args += _args(param, _valid(param, tmp_path))
    line = _clear_failure(_run([*path, *args]), exit_code=2)
    target = next(p for p in command.params if p.name == name)
    named = target.opts[0] if isinstance(target, click.Option) else str(target.make_metavar(click.Context(command)))
    assert named.lower() in line.lower(), line  # the one line names the parameter


# --------------------------------------------------------------------------- the situations of issue 14


@pytest.fixture(scope="module")
def landscape_manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from harness.landscape import Landscape

    with Landscape.start(tmp_path_factory.mktemp("landscape")) as land:
        yield land.write_manifest()


@pytest.fixture(scope="module")
def stopped_landscape_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.landscape import Landscape

    with Landscape.start(tmp_path_factory.mktemp("stopped-landscape")) as land:
        manifest = land.write_manifest()
    return manifest


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sim_up_on_a_taken_port(taken_port: int, tmp_path: Path) -> None:
    env = {"EGOV_GATEWAY_URL": f"http://127.0.0.1:{taken_port}/bip-sync-wss-gost/",
           "EGOV_PKI_URL": f"http://127.0.0.1:{_free_port()}"}
    line = _clear_failure(_run(["sim", "up", "--workdir", str(tmp_path), "--only", "gateway"], env), exit_code=1)
    assert f"simulator gateway: cannot listen on 127.0.0.1:{taken_port}" in line


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    token = tmp_path / "control-token"
    token.write_text("t" * 32, encoding="utf-8")
    token.chmod(0o600)
    return token


def test_sim_fault_add_against_a_stopped_simulator(token_file: Path) -> None:
    port = _free_port()  # nothing listens there any more
    result = _run(["sim", "fault", "add", "--url", f"http://127.0.0.1:{port}", "--kind", "latency",
                   "--token-file", str(token_file)])
    line = _clear_failure(result, exit_code=75)
    assert f"127.0.0.1:{port}" in line and "egov sim up" in result.output  # the hint says what to do


def test_sim_fault_add_against_a_malformed_url(token_file: Path) -> None:
    line = _clear_failure(_run(["sim", "fault", "add", "--url", "gateway:8780", "--kind", "latency",
                                "--token-file", str(token_file)]), exit_code=2)
    assert "--url" in line and "not an http(s) URL" in line


def test_the_simulator_url_comes_from_egov_env(token_file: Path, tmp_path: Path) -> None:
    """``egov sim`` reads the settings (egov.env too), not only the real environment."""
    port = _free_port()
    config = tmp_path / "egov.env"
    config.write_text(f"EGOV_GATEWAY_URL=http://127.0.0.1:{port}/bip-sync-wss-gost/\n"
                      f"EGOV_SIM_CONTROL_TOKEN_FILE={token_file}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sim", "fault", "list"], env={"EGOV_CONFIG_FILE": str(config),
                                                                   "EGOV_GATEWAY_URL": None,
                                                                   "EGOV_SIM_CONTROL_TOKEN_FILE": None})
    assert f"127.0.0.1:{port}/_control/faults" in _clear_failure(result, exit_code=75)


def test_a_manifest_missing_fields(tmp_path: Path) -> None:
    manifest = tmp_path / "landscape.json"
    manifest.write_text('{"version": 2}', encoding="utf-8")
    line = _clear_failure(_run(["flow", "run", "--service", "school", "--manifest", str(manifest)]), exit_code=1)
    assert "landscape manifest" in line and "gateway_url" in line


@pytest.fixture
def test_pki(tmp_path: Path) -> Path:
    directory = tmp_path / "pki"
    assert _run(["pki", "init", str(directory)]).exit_code == 0
    return directory


ISSUE = ["--iin", "871008401427"]


def test_pki_issue_into_a_missing_folder(test_pki: Path, tmp_path: Path) -> None:
    line = _clear_failure(_run(["pki", "issue", str(test_pki), *ISSUE, "--out", str(tmp_path / "no" / "k.p12"),
                                "--password", "secret"]), exit_code=2)
    assert "does not exist" in line and not (tmp_path / "no").exists()


def test_pki_issue_with_an_empty_password(test_pki: Path, tmp_path: Path) -> None:
    result = _run(["pki", "issue", str(test_pki), *ISSUE, "--out", str(tmp_path / "k.p12"), "--password", ""])
    assert "must not be empty" in _clear_failure(result, exit_code=1)
    assert not (tmp_path / "k.p12").exists()


def test_pki_issue_with_a_bin_but_no_organisation(test_pki: Path, tmp_path: Path) -> None:
    result = _run(["pki", "issue", str(test_pki), *ISSUE, "--bin", "940140000385", "--out",
                   str(tmp_path / "k.p12"), "--password", "secret"])
    assert "--bin and --org together" in _clear_failure(result, exit_code=2)


def test_pki_serve_on_a_port_that_does_not_exist(test_pki: Path) -> None:
    assert "--port" in _clear_failure(_run(["pki", "serve", str(test_pki), "--port", "99999"]), exit_code=2)


@pytest.fixture
def signing_key(test_pki: Path, tmp_path: Path) -> Path:
    out = tmp_path / "k.p12"
    assert _run(["pki", "issue", str(test_pki), *ISSUE, "--out", str(out), "--password", "secret"]).exit_code == 0
    return out


def _document(tmp_path: Path) -> Path:
    document = tmp_path / "doc.xml"
    document.write_text('<Application xmlns="urn:test"><Fee>1</Fee></Application>', encoding="utf-8")
    return document


def test_sign_into_a_missing_folder(signing_key: Path, tmp_path: Path) -> None:
    result = _run(["sign", "--p12", str(signing_key), "--password", "secret", "--enveloped",
                   str(_document(tmp_path)), str(tmp_path / "no" / "signed.xml")])
    assert "does not exist" in _clear_failure(result, exit_code=2)


def test_sign_with_both_modes(signing_key: Path, tmp_path: Path) -> None:
    result = _run(["sign", "--p12", str(signing_key), "--password", "secret", "--wsse", "--enveloped",
                   str(_document(tmp_path)), str(tmp_path / "signed.xml")])
    assert "--wsse or --enveloped" in _clear_failure(result, exit_code=2)
    assert not (tmp_path / "signed.xml").exists()


def test_re_signing_a_signed_document(signing_key: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    sign = ["sign", "--p12", str(signing_key), "--password", "secret", "--enveloped"]
    assert _run([*sign, str(_document(tmp_path)), str(signed)]).exit_code == 0
    line = _clear_failure(_run([*sign, str(signed), str(tmp_path / "twice.xml")]), exit_code=1)
    assert "already signed" in line and not (tmp_path / "twice.xml").exists()


def test_demo_out_naming_a_file(tmp_path: Path) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me", encoding="utf-8")
    assert "--out" in _clear_failure(_run(["demo", "--out", str(target)]), exit_code=2)
    assert target.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("what", ["not-a-database", "missing", "a-folder"])
def test_flow_show_on_what_is_not_a_flow_database(what: str, tmp_path: Path) -> None:
    target = tmp_path / what
    if what == "not-a-database":
        target.write_text("<a/>", encoding="utf-8")
        target.chmod(0o644)
    elif what == "a-folder":
        target.mkdir(mode=0o755)
    line = _clear_failure(_run(["flow", "show", "abc", "--db", f"sqlite:///{target}"]), exit_code=1)
    assert str(target) in line
    assert target.exists() == (what != "missing")  # a missing one is not created
    if target.exists():
        assert target.stat().st_mode & 0o077  # nor its mode changed: it was never opened


def test_a_reversed_window(tmp_path: Path) -> None:
    from adapters.core.journal import ExchangeJournal

    url = f"sqlite:///{tmp_path / 'journal.db'}"
    ExchangeJournal.open(url).close()
    result = _run(["journal", "stats", "--since", "1h", "--until", "2h", "--db", url])
    assert "--until" in _clear_failure(result, exit_code=2)


def test_log_level_that_does_not_exist() -> None:
    assert "--log-level" in _clear_failure(_run(["--log-level", "LOUD", "id", "check", "1"]), exit_code=2)


def test_a_taken_metrics_port(taken_port: int, tmp_path: Path, landscape_manifest: Path) -> None:
    result = _run(["flow", "run", "--service", "school", "--manifest", str(landscape_manifest),
                   "--db", f"sqlite:///{tmp_path / 'f.db'}", "--out", str(tmp_path / "out")],
                  env={"EGOV_METRICS_PORT": str(taken_port)})
    assert f"EGOV_METRICS_PORT: cannot serve metrics on 127.0.0.1:{taken_port}" in _clear_failure(result,
                                                                                                  exit_code=1)


def test_flow_run_after_the_simulators_stopped(stopped_landscape_manifest: Path, tmp_path: Path) -> None:
    result = _run(["flow", "run", "--service", "school", "--manifest", str(stopped_landscape_manifest),
                   "--db", f"sqlite:///{tmp_path / 'f.db'}", "--out", str(tmp_path / "out")])
    _clear_failure(result, exit_code=75)
    assert "egov sim up" in result.output  # the hint: start them


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_says_what_it_does(path: tuple[str, ...]) -> None:
    command = _command(path)
    assert (command.help or "").strip(), f"egov {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name not in ("help",):
            assert (param.help or "").strip() or (param.is_flag and param.secondary_opts), \
                f"egov {' '.join(path)} {param.opts[0]} has no help text"


def test_fault_add_lists_every_kind_with_what_it_does() -> None:
    from typing import get_args

    from simulators.common.fault_kinds import KIND_HELP, FaultKind

    assert list(KIND_HELP) == list(get_args(FaultKind))
    shown = _run(["sim", "fault", "add", "--help"]).output
    for kind, text in KIND_HELP.items():
        assert kind in shown and text.split()[0] in shown, kind
