"""The student's side in a real browser (issue 10): JupyterLab 4 in headless Chromium on a student bundle.

JupyterLab serves a copy of the committed chapter-3 bundle on a free local port; Playwright drives Debian's
``chromium`` (the system browser: nothing downloads one). From the page, as a student would: the notebook
opens with a live kernel and unmodified; "Run All" runs up to the first stub without any error output (no
Paddle ccache warning either); the first ``grader.check`` shows a failure that names the student's line;
after typing a body into the stub and re-running, the check passes; a plot cell shows an image; the last
cell, ``grader.check_all()``, shows the per-question summary. Screenshots go to ``build/browser/``; the
passing check is ``docs/images/student_check_passed.png`` in the README (``NNDL_UPDATE_SCREENSHOT=1``
rewrites it). Skipped, with the reason, where Chromium or Playwright is missing (``.ci/run`` installs them).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nndl_grading.config import ASSIGNMENTS_ROOT, BUILD_ROOT, REPO_ROOT

pytestmark = pytest.mark.browser

KEY = "ch03"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
JUPYTER_LAB = Path(sys.executable).with_name("jupyter-lab")
TOKEN = "nndl-browser-test"
SCREENSHOTS = BUILD_ROOT / "browser"
README_SCREENSHOT = REPO_ROOT / "docs" / "images" / "student_check_passed.png"
STUB_LINE = 'raise NotImplementedError("logistic 尚未实现")'
ANSWER = "return 1 / (1 + paddle.exp(-x))"
WAIT_MS = 180_000    # per step; generous for a loaded CI machine (idle: the whole test takes ~30 s)
# A quiet, fully rendered JupyterLab: no news prompt, every cell in the page (no windowing).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of the chapter's committed bundle: yields its notebook URL; stopped by its pid."""
    if CHROMIUM is None:
        pytest.skip("no Chromium: apt-get install chromium chromium-driver fonts-noto-cjk (.ci/run does)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (requirements.txt)")
    if not JUPYTER_LAB.exists():
        pytest.skip(f"JupyterLab is not installed beside {sys.executable}")
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(ASSIGNMENTS_ROOT / KEY, root / KEY)
    settings = root / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value), encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"), "PATH": f"{JUPYTER_LAB.parent}{os.pathsep}"
           f"{os.environ['PATH']}"}
    env.pop("NNDL_SMOKE", None)
    log = open(root / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [str(JUPYTER_LAB), "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
         f"--ServerApp.root_dir={root / KEY}", "--ServerApp.port_retries=0", "--allow-root"],
        cwd=root / KEY, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"{base}/api/status?token={TOKEN}"):
            assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
            try:
                server.wait(timeout=0.2)     # waits on the server: returns only if it exited
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"JupyterLab exited: {(root / 'jupyterlab.log').read_text()[-2000:]}")
        yield f"{base}/lab/tree/{KEY}.ipynb?token={TOKEN}"
    finally:
        _stop(server)
        log.close()


def _stop(server):
    """Stop the JupyterLab server by its process id (it shuts its kernels down first)."""
    if server.poll() is not None:
        return
    os.kill(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()


def _cell(page, text):
    """The code cell whose source contains ``text``."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)).first


def _shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _shot_cells(page, first, last, path):
    """A screenshot of the notebook from cell ``first`` to cell ``last``."""
    page.locator(".jp-Notebook").evaluate("node => node.querySelector('.jp-mod-active')?.blur()")
    first.scroll_into_view_if_needed()
    top, bottom = first.bounding_box(), last.bounding_box()
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), clip={"x": top["x"], "y": top["y"], "width": top["width"],
                                          "height": bottom["y"] + bottom["height"] - top["y"]})


def test_student_fills_a_stub_and_checks_it_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(lab)

            # Opens with a live kernel, not marked as modified.
            expect(page.locator(".jp-NotebookPanel")).to_be_visible()
            status = page.locator(".jp-Notebook-ExecutionIndicator")
            expect(status).to_have_attribute("data-status", "idle")
            # The indicator says idle before the kernel is connected, and Run All then runs nothing: wait
            # for the status bar's kernel status (CI saw every cell left at "[ ]" without this).
            expect(page.locator(".jp-StatusBar-Widget")).to_contain_text("(ipykernel) | Idle")
            expect(page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0)

            # Run All: it stops at the first experiment that calls a stub; the check above it fails.
            page.locator(".lm-MenuBar-item", has_text="Run").click()
            page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
            check = _cell(page, 'grader.check("q1_logistic")')
            expect(check.locator(".jp-OutputArea")).to_contain_text("没有通过公开测试")
            expect(check.locator(".jp-OutputArea")).to_contain_text(STUB_LINE)
            expect(check.locator(".jp-OutputArea")).not_to_contain_text("Error at line")
            expect(status).to_have_attribute("data-status", "idle")
            cells = page.locator(".jp-Notebook .jp-Cell")
            first_stub = next(i for i in range(cells.count()) if STUB_LINE in cells.nth(i).inner_text())
            for index in range(first_stub + 2):   # up to the stub's check: no error, no warning
                expect(cells.nth(index).locator("[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
            check.scroll_into_view_if_needed()
            _shot(page, "1_check_fails")

            # The student types a body into the stub and runs it, then its check.
            stub = cells.nth(first_stub)      # by position: its text changes now
            editor = stub.locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+End")
            page.keyboard.press("Shift+Home")
            page.keyboard.type(ANSWER)
            page.keyboard.press("Shift+Enter")
            page.keyboard.press("Shift+Enter")
            expect(check.locator(".jp-OutputArea")).to_contain_text("通过了公开测试")
            check.scroll_into_view_if_needed()
            _shot(page, "2_check_passes")
            if os.environ.get("NNDL_UPDATE_SCREENSHOT") == "1":
                _shot_cells(page, stub, check, README_SCREENSHOT)

            # A plot cell now draws the student's function.
            plot = _cell(page, "plot_logistic(logistic)")
            plot.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            expect(plot.locator(".jp-OutputArea-output img")).to_be_visible()
            plot.scroll_into_view_if_needed()
            _shot(page, "3_plot")

            # The last cell checks every question: one row each, with its points.
            check_all = _cell(page, "grader.check_all()")
            check_all.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            summary = check_all.locator(".nndl-check-all")
            expect(summary).to_contain_text("公开测试：通过 1/9 题")
            expect(summary.locator("tbody tr")).to_have_count(9)
            expect(summary).to_contain_text("隐藏测试")
            check_all.scroll_into_view_if_needed()
            _shot(page, "4_check_all")
        except BaseException:
            _shot(page, "failure")
            raise
        finally:
            browser.close()
