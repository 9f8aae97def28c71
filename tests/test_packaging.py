"""The package installs cleanly into someone else's project: the built wheel in a fresh venv, used from a
project folder that has its own `scripts/` and `mock_portals/` packages; portals come from entry points."""

import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from support import ROOT, free_port

WEB_SCENARIO = "name: 第三方项目里的场景\nportal: migu\nsteps:\n  - goto: /login\n  - see: 登录咪咕账号\n"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools builds in the source tree (build/, *.egg-info), and two pytest-xdist workers
    # building there at once broke each other's wheel ("No such file or directory" while copying build/lib).
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("scripts", "mock_portals"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return next(out.glob("tuiding-*.whl"))


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory):
    """A new venv with only the wheel installed; its dependencies are the ones already installed here,
    reached through a .pth path entry (a plain path: the editable install's finder there is not run)."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The venv's own pip installs the wheel (it sees no other tuiding); only then are the dependencies added.
    r = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    (site / "deps-from-dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


@pytest.fixture
def project(tmp_path):
    """Someone's project: its own scripts/ and mock_portals/ packages, and a scenarios folder."""
    for pkg in ("scripts", "mock_portals"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("OWN = True\n")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "login_page.yaml").write_text(WEB_SCENARIO, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\ntuiding_scenarios = scenarios\naddopts = -p no:cacheprovider\n")
    return tmp_path


def test_wheel_carries_templates_static_files_schema_data_and_entry_points(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "tuiding_portals/migu/templates/migu/receipt.html",
        "tuiding_portals/migu/templates/migu/app/login.html",
        "tuiding_portals/migu/static/migu.css",
        "tuiding/report/run_report.html",
        "tuiding/data/devices.json",
        "tuiding/data/rules/de.yaml",
        "tuiding/locale/zh/LC_MESSAGES/tuiding.po",
        "tuiding/py.typed",
        "tuiding/cli.py",
        "tuiding/pytest_plugin.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("scripts/", "mock_portals/"))]
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    for line in ("tuiding = tuiding.cli:main", "tuiding = tuiding.pytest_plugin", "migu = tuiding_portals.server:migu"):
        assert line in entry_points, line


def test_wheel_metadata_keeps_pytest_and_portals_as_extras(wheel):
    meta = zipfile.ZipFile(wheel).read(next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA"))).decode()
    requires = [line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    core = [r for r in requires if "extra ==" not in r]
    assert not [r for r in core if r.lower().startswith(("pytest", "flask", "waitress", "werkzeug"))], core
    assert any(r.startswith("pytest-playwright") and 'extra == "pytest"' in r for r in requires)
    assert any(r.startswith("flask") and 'extra == "portals"' in r for r in requires)


@pytest.mark.browser
def test_cli_runs_from_a_project_with_its_own_scripts_package(fresh_venv, project):
    tuiding = fresh_venv / "bin" / "tuiding"
    r = subprocess.run([tuiding, "validate", "scenarios"], cwd=project, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [tuiding, "run", "scenarios", "--out", "runs", "--json"], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert '"status":"passed"' in r.stdout
    r = subprocess.run(
        [fresh_venv / "bin" / "python", "-c", "import tuiding, scripts; print(tuiding.__file__); assert scripts.OWN"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and str(fresh_venv) in r.stdout, r.stderr


@pytest.mark.browser
def test_python_m_pytest_loads_the_plugin_from_a_project_with_its_own_scripts_package(fresh_venv, project):
    r = subprocess.run(
        [fresh_venv / "bin" / "python", "-m", "pytest", "-q", "--tuiding-out=runs"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout[-3000:]
    assert "1 passed" in r.stdout


def test_serve_works_from_the_installed_wheel(fresh_venv, project):
    port = free_port()
    proc = subprocess.Popen(
        [fresh_venv / "bin" / "tuiding", "serve", "migu", "--port", str(port)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert "登录咪咕账号" in page
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/static/migu/migu.css", timeout=2).status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_plugin_is_inert_in_projects_that_did_not_opt_in(tmp_path):
    (tmp_path / "ci.yaml").write_text("name: not a scenario of ours\nsteps:\n  - run: make\n")
    (tmp_path / "test_plain.py").write_text("def test_one():\n    pass\n")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout
    assert "test_plain.py::test_one" in r.stdout and "ci.yaml" not in r.stdout and "1 test collected" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--tuiding-scenarios", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "ci.yaml" in r.stdout  # opted in on the command line: now it is a (broken) scenario


TINY_PORTAL = """
import http.server, threading
from contextlib import contextmanager

class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>小站</title><h1>第三方门户</h1>".encode()
        self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

@contextmanager
def provide():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown(); server.server_close()
"""


@pytest.mark.browser
def test_a_third_party_portal_registers_itself_through_an_entry_point(tmp_path, cli):
    """A portal package of someone else's, defined here: the runner knows it by name, without touching tuiding."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "tiny_portal.py").write_text(TINY_PORTAL)
    dist = site / "tiny_portal-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-portal\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[tuiding.portals]\ntiny = tiny_portal:provide\n")
    scen = tmp_path / "tiny.yaml"
    scen.write_text("name: 第三方门户\nportal: tiny\nsteps:\n  - goto: /\n  - see: 第三方门户\n", encoding="utf-8")
    import os

    env = {**os.environ, "PYTHONPATH": str(site)}
    r = cli("validate", scen, env=env)
    assert r.returncode == 0, r.stderr
    r = cli("run", scen, "--out", tmp_path / "runs", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert '"status":"passed"' in r.stdout
    r = cli("validate", scen)  # without the package installed, the name is unknown
    assert r.returncode == 2 and "unknown portal 'tiny'" in r.stderr
