"""Output folders never destroy what netplan did not write (issue 20 §1).

Each refusal runs through the command line: exit code 2, exactly one ``error:`` line saying
why, no traceback, and every file, folder and link under the test folder identical
afterwards (nothing of the user's changed, nothing left behind: no temporary folder, no lock
file). Kills and two writers at once run the CLI as separate processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import netplan
from netplan import pipeline
from netplan import sweep as sw
from netplan.cli import app
from netplan.cli.console import show_warning as _show_warning
from netplan.outputs import folders as outdir

from conftest import DEMO_SCENARIO, RUN_FILES, write_small_case

try:  # click < 8.2 mixes stderr into stdout unless told not to
    runner = CliRunner(mix_stderr=False)
except TypeError:
    runner = CliRunner()

CLI = [sys.executable, "-c", "from netplan.cli import main; main()"]


@pytest.fixture(autouse=True)
def _warnings_as_the_cli_prints_them(monkeypatch):
    """``main()`` prints warnings as ``warning:`` lines on stderr; CliRunner calls ``app``."""
    monkeypatch.setattr(warnings, "showwarning", _show_warning)


def _tree(root: Path) -> dict[str, str]:
    """Every file, folder and link under ``root``, hidden ones too: path -> content hash."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = "link to " + os.readlink(path)
            elif path.is_dir():
                found[key] = "folder"
            else:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _quiet_run(scenario: Path, out: Path, **changes) -> None:
    """Plan and write a scenario through the library (a run folder as netplan writes it)."""
    loaded = netplan.Scenario.from_yaml(scenario)
    if changes:
        loaded = loaded.replace(**changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        netplan.write_run(netplan.run_scenario(loaded), out)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Written once: the small case, two runs of it (A, B), their comparison and a sweep."""
    root = Path(os.path.realpath(tmp_path_factory.mktemp("made")))
    scenario = write_small_case(root / "case")
    _quiet_run(scenario, root / "A")
    _quiet_run(scenario, root / "B", budget={"total": "2 x baseline"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        netplan.write_comparison(netplan.compare(root / "A", root / "B"), root / "cmp")
        result = sw.run_sweep(
            netplan.Scenario.from_yaml(scenario),
            [sw.budget_axis("1x,2x")],
            sequential=True,
            out=root / "sweep",
        )
    return {"root": root, "scenario": scenario, "sweep_result": result}


@pytest.fixture
def world(made, tmp_path):
    """A work folder: the case, a scenario elsewhere reading the case's inputs, a road-network
    scenario, copies of runs A and B, a user's folder, and old-release output folders."""
    w = Path(os.path.realpath(tmp_path)) / "work"
    shutil.copytree(made["root"] / "case", w / "case")
    raw = yaml.safe_load((w / "case" / "scenario.yaml").read_text())
    for key in ("demand", "outlets", "candidates"):
        raw[key]["path"] = f"../case/{raw[key]['path']}"
    (w / "elsewhere").mkdir()
    (w / "elsewhere" / "s.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (w / "roads").mkdir()
    (w / "roads" / "net.osm.bz2").write_bytes(b"BZh91AY&SY not really roads")
    net = {
        **raw,
        "travel": {"mode": "network", "network": "../roads/net.osm.bz2"},
        "tiers": [
            {"key": "hub", "name": "hub", "reach": "10 min"},
            {"key": "point", "name": "point", "reach": "4 min", "linkage": "15 min"},
        ],
    }
    (w / "netcase").mkdir()
    (w / "netcase" / "s.yaml").write_text(yaml.safe_dump(net, sort_keys=False))
    for name in ("A", "B"):
        shutil.copytree(made["root"] / name, w / "runs" / name, symlinks=True)
    (w / "mine").mkdir()
    (w / "mine" / "notes.txt").write_text("my notes, not netplan's")
    (w / "file.txt").write_text("a file")
    old = w / "old"  # a run folder as an earlier release wrote it: no marker
    shutil.copytree(made["root"] / "A", old)
    (old / ".netplan-output").unlink()
    shutil.copytree(old, w / "oldplus")
    (w / "oldplus" / "notes.txt").write_text("mine")
    shutil.copytree(old, w / "fakerun")
    (w / "fakerun" / "run.json").write_text(json.dumps({"name": "not netplan's"}))
    (w / "forged").mkdir()
    (w / "forged" / ".netplan-output").write_text('{"kind": "run"}')
    (w / "forged" / "thesis.tex").write_text("mine")
    (w / "caselink").symlink_to(w / "case", target_is_directory=True)
    (w / "dangling").symlink_to(w / "nowhere")
    return w


NOT_READ = "netplan never writes over what it reads: choose another --out"
REFUSED = {
    "run: --out is the scenario's folder": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/case", "--overwrite"],
        "{w}/case: the output folder holds the scenario file ({w}/case/scenario.yaml); " + NOT_READ,
    ),
    "run: --out is the parent of the scenario's folder": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}", "--overwrite"],
        "{w}: the output folder holds the scenario file ({w}/case/scenario.yaml); " + NOT_READ,
    ),
    "run: --out holds the input layers only": (
        ["run", "{w}/elsewhere/s.yaml", "--out", "{w}/case", "--overwrite"],
        "{w}/case: the output folder holds input layer 'demand' ({w}/case/demand.csv); " + NOT_READ,
    ),
    "run: --out holds the road network": (
        ["run", "{w}/netcase/s.yaml", "--out", "{w}/roads", "--overwrite"],
        "{w}/roads: the output folder holds the road network ({w}/roads/net.osm.bz2); " + NOT_READ,
    ),
    "run: --out is a link to the scenario's folder": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/caselink", "--overwrite"],
        "{w}/caselink: the output folder holds the scenario file ({w}/case/scenario.yaml); "
        + NOT_READ,
    ),
    "run: --out reaches the scenario's folder through ..": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/runs/../case", "--overwrite"],
        "{w}/runs/../case: the output folder holds the scenario file ({w}/case/scenario.yaml); "
        + NOT_READ,
    ),
    "compare: --out is run A": (
        ["compare", "{w}/runs/A", "{w}/runs/B", "--out", "{w}/runs/A", "--overwrite"],
        "{w}/runs/A: the output folder is run A; " + NOT_READ,
    ),
    "compare: --out is run B": (
        ["compare", "{w}/runs/A", "{w}/runs/B", "--out", "{w}/runs/B", "--overwrite"],
        "{w}/runs/B: the output folder is run B; " + NOT_READ,
    ),
    "compare: --out holds the runs": (
        ["compare", "{w}/runs/A", "{w}/runs/B", "--out", "{w}/runs", "--overwrite"],
        "{w}/runs: the output folder holds run A ({w}/runs/A); " + NOT_READ,
    ),
    "compare: --out inside run A": (
        ["compare", "{w}/runs/A", "{w}/runs/B", "--out", "{w}/runs/A/cmp"],
        "{w}/runs/A/cmp: the output folder lies inside run A ({w}/runs/A); "
        "netplan never writes into what it reads: choose another --out",
    ),
    "sweep: --out is the scenario's folder": (
        ["sweep", "{w}/case/scenario.yaml", "--budgets", "1x", "--sequential"]
        + ["--out", "{w}/case", "--overwrite"],
        "{w}/case: the output folder holds the scenario file ({w}/case/scenario.yaml); " + NOT_READ,
    ),
    "sweep: --out holds the input layers": (
        ["sweep", "{w}/elsewhere/s.yaml", "--budgets", "1x", "--sequential"]
        + ["--out", "{w}/case", "--overwrite"],
        "{w}/case: the output folder holds input layer 'demand' ({w}/case/demand.csv); " + NOT_READ,
    ),
    "run: --overwrite of a folder netplan did not write": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/mine", "--overwrite"],
        "{w}/mine: not an output folder netplan wrote (it holds notes.txt but no .netplan-output "
        "marker nor a netplan run.json, compare.json or sweep.csv); --overwrite replaces only "
        "those: choose another --out, or empty the folder yourself",
    ),
    "run: --overwrite of an old run folder with a file of the user's": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/oldplus", "--overwrite"],
        "{w}/oldplus: not an output folder netplan wrote (it holds notes.txt, which netplan does "
        "not write); --overwrite replaces only those: choose another --out, or empty the folder "
        "yourself",
    ),
    "run: --overwrite of a folder whose run.json is not netplan's": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/fakerun", "--overwrite"],
        "{w}/fakerun: not an output folder netplan wrote (its run.json is not one netplan "
        "wrote); --overwrite replaces only those: choose another --out, or empty the folder "
        "yourself",
    ),
    "run: --overwrite of a folder with a marker netplan did not write": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/forged", "--overwrite"],
        "{w}/forged: not an output folder netplan wrote (its .netplan-output marker is not one "
        "netplan wrote); --overwrite replaces only those: choose another --out, or empty the "
        "folder yourself",
    ),
    "sweep: --overwrite of a folder netplan did not write": (
        ["sweep", "{w}/case/scenario.yaml", "--budgets", "1x", "--out", "{w}/mine", "--overwrite"],
        "{w}/mine: not an output folder netplan wrote (it holds notes.txt but no .netplan-output "
        "marker nor a netplan run.json, compare.json or sweep.csv); --overwrite replaces only "
        "those: choose another --out, or empty the folder yourself",
    ),
    "run: --out is a dangling link": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/dangling"],
        "{w}/dangling: --out is a symbolic link to {w}/nowhere, which does not exist; create "
        "that folder or remove the link",
    ),
    "run: --out . from inside the output folder": (
        ["run", "{w}/case/scenario.yaml", "--out", ".", "--overwrite"],
        ".: is the current folder or holds it, and an output folder is replaced as a whole; "
        "run netplan from another folder or choose another --out",
    ),
    "run: --out is a file": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/file.txt", "--overwrite"],
        "{w}/file.txt: exists and is a file; give a folder path for --out",
    ),
    "run: a netplan folder without --overwrite": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/runs/A"],
        "{w}/runs/A: output folder exists and is not empty; choose another folder or pass "
        "--overwrite",
    ),
    "run: another process is writing --out": (
        ["run", "{w}/case/scenario.yaml", "--out", "{w}/runs/A", "--overwrite"],
        "{w}/runs/A: another netplan process is writing this output folder now; wait for it "
        "to finish or choose another --out",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_with_one_line_and_nothing_changed(world, case, monkeypatch):
    args, line = REFUSED[case]
    w = world
    if "--out ." in case:
        monkeypatch.chdir(w / "runs" / "A")
    held = None
    if "another process" in case:  # the lock as a writer in the middle of its work holds it
        held = os.open(w / "runs" / ".A.netplan-lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    before = _tree(w.parent)
    try:
        result = _cli(*(a.format(w=w) for a in args))
    finally:
        if held is not None:
            os.close(held)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == ["error: " + line.format(w=w)]
    assert "Traceback" not in result.stdout + result.stderr
    if held is not None:
        (w / "runs" / ".A.netplan-lock").unlink()
        before.pop("work/runs/.A.netplan-lock")
    assert _tree(w.parent) == before


def test_library_refuses_with_a_netplan_error(made, world, monkeypatch):
    """The same rules hold for write_run, write_comparison and write_sweep."""
    w = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = netplan.run_scenario(netplan.Scenario.from_yaml(w / "case" / "scenario.yaml"))
        comparison = netplan.compare(w / "runs" / "A", w / "runs" / "B")
    before = _tree(w.parent)
    with pytest.raises(netplan.OutputError) as err:
        netplan.write_run(result, w / "case", overwrite=True)
    assert str(err.value) == (
        f"{w}/case: the output folder holds the scenario file ({w}/case/scenario.yaml); " + NOT_READ
    )
    def no_planning(*args, **kwargs):
        raise AssertionError("netplan.run planned before refusing its output folder")

    monkeypatch.setattr(pipeline, "run_scenario", no_planning)
    with pytest.raises(netplan.OutputError) as err:
        netplan.run(w / "elsewhere" / "s.yaml", out=w / "case", overwrite=True)
    assert str(err.value) == (
        f"{w}/case: the output folder holds input layer 'demand' ({w}/case/demand.csv); " + NOT_READ
    )
    with pytest.raises(netplan.NetplanError) as err:
        netplan.write_comparison(comparison, w / "runs" / "B", overwrite=True)
    assert str(err.value) == f"{w}/runs/B: the output folder is run B; " + NOT_READ
    sweep = made["sweep_result"]  # its scenario is the case in `made`
    with pytest.raises(netplan.OutputError) as err:
        sw.write_sweep(sweep, made["root"], overwrite=True)
    assert str(err.value) == (
        f"{made['root']}: the output folder holds the scenario file ({made['scenario']}); "
        + NOT_READ
    )
    assert _tree(w.parent) == before


def _marker(folder: Path) -> dict:
    return json.loads((folder / ".netplan-output").read_text())


def test_every_output_folder_gets_a_marker(made):
    root = made["root"]
    for name, kind in (("A", "run"), ("cmp", "compare"), ("sweep", "sweep")):
        marker = _marker(root / name)
        assert (marker["netplan_output"], marker["kind"], marker["state"]) == (1, kind, "complete")
        assert marker["version"] == netplan.__version__
        assert marker["pid"] == os.getpid()
    assert sorted(p.name for p in (root / "A").iterdir()) == RUN_FILES
    assert sorted(p.name for p in root.iterdir()) == ["A", "B", "case", "cmp", "sweep"]


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_an_earlier_release_folder_is_replaced(made, world, kind):
    """A folder as an earlier release wrote it (netplan's names and record, no marker)."""
    w = world
    source = {"run": "A", "compare": "cmp", "sweep": "sweep"}[kind]
    old = w / "out" / "old"
    shutil.copytree(made["root"] / source, old)
    (old / ".netplan-output").unlink()
    names = sorted(p.relative_to(old).as_posix() for p in old.rglob("*"))
    args = {
        "run": ["run", w / "case" / "scenario.yaml"],
        "compare": ["compare", w / "runs" / "B", w / "runs" / "A"],
        "sweep": ["sweep", w / "case" / "scenario.yaml", "--budgets", "1x,2x", "--sequential"],
    }[kind]
    outside = _tree(w / "case") | _tree(w / "runs")
    result = _cli(*args, "--out", old, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in (w / "out").iterdir()) == ["old"]  # no .tmp-, .old-, lock
    assert _marker(old)["kind"] == kind
    assert sorted(p.relative_to(old).as_posix() for p in old.rglob("*")) == sorted(
        [*names, ".netplan-output"]
    )
    if kind == "compare":  # B and A swapped: the new comparison, not the old one
        assert json.loads((old / "compare.json").read_text())["run_a"] == str(w / "runs" / "B")
    assert _tree(w / "case") | _tree(w / "runs") == outside


@pytest.mark.slow
def test_make_demo_over_an_earlier_release_out_demo(made, tmp_path):
    """`make demo` (`netplan demo --out out/demo --overwrite`) over an out/demo an earlier
    release wrote: replaced, marker added. The demo's inputs are untouched."""
    demo = tmp_path / "out" / "demo"
    shutil.copytree(made["root"] / "A", demo)
    (demo / ".netplan-output").unlink()
    inputs = _tree(DEMO_SCENARIO.parent.parent / "data" / "demo")
    result = _cli("demo", "--out", demo, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in demo.iterdir()) == RUN_FILES
    assert json.loads((demo / "run.json").read_text())["scenario"]["name"] != "small"
    assert sorted(p.name for p in demo.parent.iterdir()) == ["demo"]
    assert _tree(DEMO_SCENARIO.parent.parent / "data" / "demo") == inputs


def test_a_symlinked_out_writes_into_its_target(made, world):
    w = world
    real = w / "real" / "plans"
    shutil.copytree(made["root"] / "A", real)
    (w / "links").mkdir()
    link = w / "links" / "latest"
    link.symlink_to(real, target_is_directory=True)
    result = _cli("run", w / "case" / "scenario.yaml", "--out", link, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"warning: {link}: --out is a symbolic link; writing into the folder it leads to, {real}"
    )
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert sorted(p.name for p in real.iterdir()) == RUN_FILES
    assert _marker(real)["pid"] == os.getpid()  # written now, not the copy of A
    assert [p.name for p in (w / "links").iterdir()] == ["latest"]  # no debris by the link
    assert [p.name for p in (w / "real").iterdir()] == ["plans"]  # nor by its target


def test_replacing_without_an_atomic_exchange_leaves_no_debris(made, world, monkeypatch):
    """Where renameat2 is missing, the old folder is renamed aside, then removed."""
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    removed = []
    monkeypatch.setattr(outdir, "_remove", removed.append)  # look at the old folder first
    w = world
    result = _cli("run", w / "case" / "scenario.yaml", "--out", w / "runs" / "A", "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert _marker(w / "runs" / "A")["pid"] == os.getpid()
    [old] = removed
    assert old.parent == w / "runs" and old.name.startswith(".A.old-")
    marker = _marker(old)  # known as this process's leftover, were it killed now
    assert (marker["kind"], marker["state"], marker["pid"]) == ("run", "replaced", os.getpid())
    monkeypatch.undo()
    outdir._remove(old)
    assert sorted(p.name for p in (w / "runs").iterdir()) == ["A", "B"]


def _start(scenario: Path, out: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "run", str(scenario), "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _temporary(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.iterdir() if p.name.startswith(f".{name}.tmp-")]


def _stop_while_writing(proc: subprocess.Popen, parent: Path, name: str) -> Path:
    """Stop ``proc`` (SIGSTOP) once its temporary folder holds part of plan.gpkg."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it was caught writing"
        tmp = _temporary(parent, name)
        if tmp and (tmp[0] / "plan.gpkg").exists():
            proc.send_signal(signal.SIGSTOP)
            return tmp[0]
        time.sleep(0.002)
    raise AssertionError("the run never started writing")


def test_sigkill_while_writing_then_the_next_run_removes_the_leftover(world):
    w = world
    case = w / "case" / "scenario.yaml"
    (w / "out").mkdir()
    proc = _start(case, w / "out" / "plan")
    tmp = _stop_while_writing(proc, w / "out", "plan")
    proc.kill()
    deadline = time.monotonic() + 30  # dead but not yet reaped by this test: a zombie
    while outdir._proc_stat(proc.pid)[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not (w / "out" / "plan").exists()
    assert (tmp / "plan.gpkg").exists() and _marker(tmp)["state"] == "writing"
    # leftovers that are not a dead netplan writer's: kept
    alive = w / "out" / ".busy.tmp-0123abcd"
    alive.mkdir()
    me = {"pid": os.getpid(), "pid_start": outdir._start_time(os.getpid())}  # this test: alive
    (alive / ".netplan-output").write_text(json.dumps({**_marker(tmp), **me}))
    foreign = w / "out" / ".other.tmp-89abcdef"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not netplan's")
    inputs = _tree(w / "case")
    again = subprocess.run(
        [*CLI, "run", str(case), "--out", str(w / "out" / "next")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (
        f"warning: {w}/out: removed 1 folder(s) left by netplan runs killed while writing: "
        f"{tmp.name}" in again.stderr.splitlines()
    )
    assert "Traceback" not in again.stdout + again.stderr
    # the killed run's lock file went with its folder
    assert sorted(p.name for p in (w / "out").iterdir()) == sorted(
        [".busy.tmp-0123abcd", ".other.tmp-89abcdef", "next"]
    )
    assert sorted(p.name for p in (w / "out" / "next").iterdir()) == RUN_FILES
    assert _tree(w / "case") == inputs


def test_sigterm_while_writing_cleans_up_like_ctrl_c(world):
    w = world
    (w / "out").mkdir()
    proc = _start(w / "case" / "scenario.yaml", w / "out" / "plan")
    _stop_while_writing(proc, w / "out", "plan")
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "interrupted: no output was written"
    assert "Traceback" not in stderr
    assert list((w / "out").iterdir()) == []


def _lock_is_held(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # never unlink: the file is the writer's
    return False


def test_two_writers_of_one_folder_the_second_fails(world):
    """The first run locks --out from its check to its swap; a second run into the same
    folder at that time fails at once with one line, and the first completes the folder."""
    w = world
    case = w / "case" / "scenario.yaml"
    out = w / "runs" / "A"
    first = _start(case, out, "--overwrite")
    deadline = time.monotonic() + 120
    while not _lock_is_held(w / "runs" / ".A.netplan-lock"):
        assert first.poll() is None and time.monotonic() < deadline, "the first run never locked"
        time.sleep(0.005)
    first.send_signal(signal.SIGSTOP)  # hold it there, whatever it does
    try:
        before = _tree(w)
        second = _cli("run", case, "--out", out, "--overwrite")
        assert second.exit_code == 2
        assert second.stderr.splitlines() == [
            f"error: {out}: another netplan process is writing this output folder now; wait "
            "for it to finish or choose another --out"
        ]
        assert _tree(w) == before
    finally:
        first.send_signal(signal.SIGCONT)
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES
    assert _marker(out)["pid"] == first.pid  # the first writer's folder, whole
    assert sorted(p.name for p in (w / "runs").iterdir()) == ["A", "B"]


def test_a_swap_killed_between_its_renames_is_put_back(made, world):
    """Without renameat2 a swap renames the old folder aside, then the new one in: killed
    between the two, the next write into the parent puts the old folder back and says so."""
    w = world
    dead = subprocess.Popen(["true"])
    dead.wait()  # a process id that has ended
    parent = w / "runs"
    aside = parent / ".A.old-0badc0de"
    (parent / "A").rename(aside)
    record = {**_marker(aside), "state": "replaced", "pid": dead.pid, "pid_start": None}
    (aside / ".netplan-output").write_text(json.dumps(record))
    new = parent / ".A.tmp-0badcafe"
    shutil.copytree(parent / "B", new)
    (new / ".netplan-output").write_text(json.dumps({**record, "state": "complete"}))
    kept = _tree(aside)
    result = _cli("run", w / "case" / "scenario.yaml", "--out", parent / "C")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert notes == [
        f"warning: {parent}: removed 1 folder(s) left by netplan runs killed while writing: "
        ".A.tmp-0badcafe",
        "warning: put back output folder(s) a killed netplan run was replacing: "
        f"{parent}/A (from .A.old-0badc0de)",
    ]
    assert sorted(p.name for p in parent.iterdir()) == ["A", "B", "C"]
    kept.pop(".netplan-output")
    restored = _tree(parent / "A")
    assert restored.pop(".netplan-output") and restored == kept
    assert _marker(parent / "A")["state"] == "complete"
