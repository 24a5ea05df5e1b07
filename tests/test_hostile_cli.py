"""The command line as a hostile user meets it (issue 23): run settings out of range, names
that look like temporary folders, every invalid scenario through ``run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

TESTS = Path(__file__).resolve().parent
SMALL = TESTS / "data" / "small.toml"
INVALID = TESTS / "invalid"
CORPUS = sorted(INVALID.rglob("*.toml"))


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "internal error" not in err, err
    return err


# --------------------------------------------------------------------------- item 9


@pytest.mark.parametrize("seed", [str(2**63), str(2**64 + 5), "99999999999999999999999"])
def test_a_seed_beyond_63_bits_is_refused(
    seed: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(SMALL), "--seed", seed, "--paths", "100", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = _one_line(capsys.readouterr().err)
    assert "--seed" in err and "2^63 - 1" in err and seed in err
    assert not any(tmp_path.iterdir())


def test_the_largest_seed_runs(tmp_path: Path) -> None:
    argv = ["run", str(SMALL), "--seed", str(2**63 - 1), "--paths", "100", "--format", "json"]
    assert main([*argv, "--out", str(tmp_path), "--quiet"]) == 0


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_refused(
    command: str,
    out: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--out '' was the working directory: the scenario's folder landed there."""
    monkeypatch.chdir(tmp_path)
    files = [str(SMALL)] * (2 if command == "compare" else 1)
    with pytest.raises(SystemExit) as info:
        main([command, *files, "--paths", "100", "--out", out])
    assert info.value.code == 2
    assert "--out" in _one_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--paths", "-1", "positive integer (1 or more)"),
        ("--paths", "0", "positive integer (1 or more)"),
        ("--workers", "-3", "positive integer (1 or more)"),
        ("--seed", "-1", "0 or more"),
    ],
)
def test_integer_options_say_what_is_allowed(
    option: str, value: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--paths -1 said "non-negative", and 0 is refused as well."""
    with pytest.raises(SystemExit):
        main(["run", str(SMALL), option, value])
    err = _one_line(capsys.readouterr().err)
    assert option in err and says in err and "non-negative" not in err


# --------------------------------------------------------------------------- item 3


def test_a_folder_shaped_like_an_old_temporary_folder_survives_a_run(tmp_path: Path) -> None:
    """A scenario named ".small.999999.abc.tmp" had its output removed by the next run of
    "small" (it looked like a temporary folder left by a dead process)."""
    lookalike = tmp_path / ".small.999999.abc.tmp"
    lookalike.mkdir()
    (lookalike / "summary.json").write_text("{}", encoding="utf-8")
    argv = ["run", str(SMALL), "--paths", "100", "--format", "json", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert (lookalike / "summary.json").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [lookalike.name, "small"]


@pytest.mark.parametrize(
    "name", ["..hidden", ".min.999999.abc.tmp", ".ipo-sim-tmp.small.1.a.tmp", "a\n"]
)
def test_names_that_are_not_plain_are_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SMALL.read_text(encoding="utf-8")
    assert 'name = "small"' in text
    path = tmp_path / "s.toml"
    path.write_text(text.replace('name = "small"', f"name = {name!r}".replace("\n", "\\n")))
    assert main(["run", str(path), "--paths", "100", "--out", str(tmp_path / "o")]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "scenario.name: " in err and "not starting with '.'" in err


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(INVALID).as_posix())
def test_run_refuses_every_invalid_file_in_one_line(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(path), "--paths", "200", "--out", str(out), "--quiet"]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == ""
    assert _one_line(err).startswith("ipo-sim: error: ")
    assert not out.exists() or not any(out.rglob("*.json"))


def test_run_over_the_invalid_folder_exits_2_with_one_line_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sorted(INVALID.glob("*.toml"))
    argv = ["run", str(INVALID), "--paths", "200", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(files) + 1, lines[-1]  # one a file and the closing count
    for path, line in zip(files, lines, strict=False):
        assert line.startswith(f"ipo-sim: error: {path}"), line
    assert lines[-1].endswith("exit code 2")


# --------------------------------------------------------------------------- item 5

ESCAPES = "\x1b[2J\x1b]0;pwned\x07 \x00 \x9b31m \u202e \r\x08"
CONTROL = set("\x1b\x07\x00\x9b\u202e\r\x08")


def _with_escapes(tmp_path: Path) -> Path:
    text = SMALL.read_text(encoding="utf-8")
    evil = ESCAPES.encode("unicode_escape").decode("ascii").replace("\\x", "\\u00")
    text = text.replace('description = "', f'description = "{evil}', 1)
    text = text.replace('label = "article: 25亿 USD"', f'label = "25亿 {evil}"')
    assert evil in text
    path = tmp_path / "evil.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["show"], ["run", "--format", "json", "--paths", "300"]])
def test_terminal_escapes_in_a_scenario_are_shown_not_obeyed(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with_escapes(tmp_path)
    argv = [command[0], str(path), *command[1:]]
    if command[0] == "run":
        argv += ["--out", str(tmp_path / "o"), "--quiet"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert not CONTROL & set(out + err), repr(out)
    assert "\\u001b[2J" in out  # written out, visibly


def test_show_json_keeps_the_text_it_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["show", "--json", str(_with_escapes(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert not CONTROL & set(out)
    assert ESCAPES in json.loads(out)["scenario"]["description"]


def test_an_error_line_with_escapes_is_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SMALL.read_text(encoding="utf-8").replace(
        "fade = 0.6", 'fade = 0.6\n"x\\u001b[31m" = 1'
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["show", str(path)]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "\x1b" not in err and "\\u001b[31m" in err
