"""The package works from a wheel, not only from the source tree."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return next(out.glob("tuiding-*.whl"))


def test_wheel_carries_templates_static_files_and_entry_points(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("mock_portals/migu/templates/migu/receipt.html", "mock_portals/migu/static/migu.css",
                   "scripts/report/run_report.html", "scripts/cli.py", "scripts/pytest_plugin.py"):
        assert needed in names, needed
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "tuiding = scripts.cli:main" in entry_points and "tuiding = scripts.pytest_plugin" in entry_points


def test_installed_wheel_serves_pages_and_renders_reports(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, timeout=300)
    code = (
        "import mock_portals, scripts.report.html as h;"
        f"assert mock_portals.__file__.startswith({str(target)!r}), mock_portals.__file__;"
        "c = mock_portals.create_app('migu').test_client();"
        "assert '登录咪咕账号' in c.get('/login').text;"
        "assert c.get('/static/migu/migu.css').status_code == 200;"
        "assert h._env.get_template('run_report.html')"
    )
    # Run outside the source tree with the wheel's copy first on the path.
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                       env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 0, r.stderr
