"""The distribution: `python -m build` makes a wheel and an sdist without a warning, twine
accepts them, and the wheel installed in a fresh virtual environment serves the classroom
(its pages and scripts are package data) and computes the seed neuron.

Offline and quick: the build runs without isolation (the dev extra brings build, twine and
setuptools), the wheel is installed with --no-deps, and the fresh environment finds its
dependencies in this one's site-packages through a .pth line. A .pth line adds a directory
without running that directory's own .pth files, so this environment's editable install of
the project stays off: what is imported is the wheel.
"""

import os
import shutil
import site
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("build", reason="the dev extra's build and twine are not installed")
pytest.importorskip("twine", reason="the dev extra's build and twine are not installed")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz")
SEED_NEURON = "0.9990889488055994"


def _run(args, timeout=180, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def _source_files() -> list[str]:
    """Every file of the import packages in the source tree (no caches), relative."""
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files.append(path.relative_to(ROOT).as_posix())
    return files


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """The wheel and sdist built from a copy of the source (the build writes egg-info
    and build/ next to pyproject.toml: not into the working tree)."""
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # (PYTHONDONTWRITEBYTECODE makes setuptools print "warning: byte-compiling is disabled")
    done = _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", tmp / "out", src], env=env
    )
    log = done.stdout + done.stderr
    warnings = [line for line in log.splitlines() if "warn" in line.lower()]
    assert not warnings, "\n".join(warnings)
    return tmp / "out"


def test_build_makes_a_wheel_and_an_sdist_that_twine_accepts(dist):
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    done = _run([sys.executable, "-m", "twine", "check", "--strict", *wheels, *sdists])
    assert done.stdout.count("PASSED") == 2


def test_every_package_file_is_in_the_wheel_and_the_sdist(dist):
    source = _source_files()
    assert any(name.endswith(".js") for name in source) and "viz/stepper.html" in source
    wheel = set(zipfile.ZipFile(next(dist.glob("*.whl"))).namelist())
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        in_sdist = {name.partition("/")[2] for name in sdist.getnames()}
    # a file missing here needs its pattern in pyproject's [tool.setuptools.package-data]
    assert sorted(set(source) - wheel) == []
    assert sorted(set(source) - in_sdist) == []
    assert not [name for name in wheel if "__pycache__" in name or name.startswith("tests/")]


@pytest.fixture(scope="module")
def fresh_venv(dist, tmp_path_factory) -> Path:
    """A new virtual environment holding the wheel; its dependencies (numpy, the
    classroom extra, ...) are read from this environment's site-packages."""
    home = tmp_path_factory.mktemp("venv") / "fresh"
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet"]
    _run([*pip, "--no-deps", "--no-index", wheel])
    fresh_site = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(fresh_site.stdout.strip(), "_suite_dependencies.pth").write_text("\n".join(ours) + "\n")
    return home


def test_the_wheel_is_what_the_fresh_environment_imports(fresh_venv):
    python = fresh_venv / "bin" / "python"
    code = "import autograd, nn, viz.classroom; print(autograd.__file__, viz.classroom.__file__)"
    files = _run([python, "-c", code], cwd=fresh_venv).stdout.split()
    assert all(Path(f).is_relative_to(fresh_venv) for f in files), files


def test_the_wheels_command_computes_the_seed_neuron(fresh_venv, tmp_path):
    command = fresh_venv / "bin" / "backproplab"
    done = _run([command, "neuron", "--out", tmp_path / "neuron"], cwd=tmp_path)
    assert SEED_NEURON in done.stdout
    page = (tmp_path / "neuron" / "backprop.html").read_text()
    assert "<script" in page and (tmp_path / "neuron" / "graph.svg").stat().st_size > 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_the_wheels_server_answers_with_its_page_and_scripts(fresh_venv, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [fresh_venv / "bin" / "backproplab", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "backproplab serve did not answer in 60 s"
                time.sleep(0.2)
        assert status == 200 and "<html" in page.lower()
        scripts = sorted(p.name for p in (ROOT / "viz" / "classroom" / "static").glob("*.js"))
        assert scripts
        for name in scripts:
            status, text = _get(f"http://127.0.0.1:{port}/static/{name}")
            assert status == 200 and text == (ROOT / "viz/classroom/static" / name).read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
