"""JupyterLab in a real (headless) browser: notebook 03 with Run All, the explorer, then 06.

Starts JupyterLab on 127.0.0.1 from this venv on a copy of the notebooks, drives Debian's
``chromium`` with ``chromedriver`` through selenium, and stops only the processes it started.
Screenshots go to ``$HTCLIB_SCREENSHOTS`` (default: the test's temp folder).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.notebooks]

REPO = Path(__file__).resolve().parent.parent
INSTALL = (
    "no headless browser here: install Debian's chromium and chromium-driver "
    "(apt-get update && apt-get install -y chromium chromium-driver) and selenium "
    "(pip install selenium); .ci/run does both"
)


def _browser_or_skip():
    chrome, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        chrome = None
    if not (chrome and driver):
        if os.environ.get("HTCLIB_REQUIRE_BROWSER"):
            pytest.fail(INSTALL)
        pytest.skip(INSTALL)
    return chrome, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chrome, driver_path = _browser_or_skip()
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTER_CONFIG_DIR": str(root / "jcfg")}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root / 'notebooks'}",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={root / 'ws'}",
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=root / "notebooks",
        env=env,
        stdout=open(root / "lab.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped together, nothing else
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = None
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2
                )
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(root / 'lab.log').read_text()[-2000:]}")
        opts = webdriver.ChromeOptions()
        opts.binary_location = chrome
        for a in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1440,1000",
        ):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(driver_path), options=opts)
        shots = Path(os.environ.get("HTCLIB_SCREENSHOTS", root / "shots"))
        shots.mkdir(parents=True, exist_ok=True)
        yield driver, f"http://127.0.0.1:{port}", token, root, shots
    finally:
        if driver is not None:
            driver.quit()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _wait(fn, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        value = fn()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# The notebook panel showing ``path`` (not whatever tab the restored workspace shows first).
_PANEL = (
    "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
    "const ok = !!(w && w.context && w.context.path.endsWith(arguments[0]) && w.sessionContext"
    " && w.sessionContext.session && w.sessionContext.session.kernel && w.content"
    " && w.content.widgets.length);"
)


def _open_and_run_all(driver, base, token, name, shots, timeout=600):
    driver.get(f"{base}/lab/tree/{name}?token={token}")
    ready = _PANEL + "return ok && w.sessionContext.session.kernel.status === 'idle';"
    _wait(lambda: driver.execute_script(ready, name), 180, f"{name} open with an idle kernel")
    ran = (
        _PANEL
        + "if (!ok) return false; window.jupyterapp.commands.execute('notebook:run-all-cells'); return true;"
    )
    assert driver.execute_script(ran, name), f"{name} was not the current notebook"
    done = _PANEL + (
        "if (!ok) return false;"
        "const cells = w.content.widgets.filter(c => c.model.type === 'code');"
        "return w.sessionContext.session.kernel.status === 'idle'"
        " && cells.every(c => c.model.executionCount !== null);"
    )
    time.sleep(3)

    def finished():
        errors = driver.find_elements(
            "css selector", ".jp-OutputArea-output[data-mime-type*='error']"
        )
        assert not errors, f"{name}: a cell failed: {errors[0].text[:2000]}"
        return driver.execute_script(done, name)

    try:
        _wait(finished, timeout, f"{name}: all cells run")
    except AssertionError:
        driver.save_screenshot(str(shots / f"{name}.timeout.png"))
        raise


def _reopen_with_fresh_kernel(driver, base, token, name, shots):
    """Save, stop the kernel, reload: the explorer comes back from the widget state JupyterLab
    saved with the notebook (the venv's overrides.json turns saveState on), with no
    "Error displaying widget: model not found"."""
    overrides = Path(sys.prefix) / "share/jupyter/lab/settings/overrides.json"
    assert "saveState" in overrides.read_text(), f"{overrides}: run `make venv`"
    saved = _PANEL + (
        "if (!ok) return false; if (w.context.model.dirty) {"
        " window.jupyterapp.commands.execute('docmanager:save'); return false; } return true;"
    )
    _wait(lambda: driver.execute_script(saved, name), 60, f"{name} saved")
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(
            f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE"
        )
        urllib.request.urlopen(req, timeout=30).close()
    driver.get(f"{base}/lab/tree/{name}?token={token}")
    ready = _PANEL + "return ok && w.sessionContext.session.kernel.status === 'idle';"
    _wait(lambda: driver.execute_script(ready, name), 180, f"{name} reopened")
    _wait(
        lambda: driver.find_elements("css selector", "img.widget-image"),
        60,
        "the explorer from the saved widget state",
    )
    time.sleep(2)
    page = driver.find_element("css selector", "body").text
    assert "Error displaying widget" not in page, "a stale widget view after reopening"
    img = driver.find_elements("css selector", "img.widget-image")[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", img)
    driver.save_screenshot(str(shots / "03_reopened.png"))


def test_notebook_03_and_the_explorer_then_06(lab):
    from selenium.webdriver.common.keys import Keys

    driver, base, token, root, shots = lab
    _open_and_run_all(driver, base, token, "03_global_spp.ipynb", shots)
    imgs = driver.find_elements("css selector", ".jp-OutputArea-output img")
    assert len(imgs) >= 2, "figures inline"
    _wait(lambda: driver.find_elements("css selector", "img.widget-image"), 60, "explorer plot")

    def plot_src():
        return driver.find_elements("css selector", "img.widget-image")[0].get_attribute("src")

    for b in driver.find_elements(
        "css selector", ".jp-toast-button, .jp-Notification-Toast button"
    ):
        if b.text.strip() == "No":  # JupyterLab's first-run news prompt covers the page
            b.click()
    slider = driver.find_element("css selector", ".widget-slider .noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    driver.save_screenshot(str(shots / "03_explorer_before.png"))
    before = plot_src()
    driver.execute_script("arguments[0].focus();", slider)
    slider.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)  # P 20 -> 10 (stored in smoke)
    _wait(lambda: plot_src() != before, 60, "the explorer plot to follow the slider")
    _wait(
        lambda: "P = 10" in driver.find_element("css selector", ".widget-html").text, 30, "P = 10"
    )
    box = driver.find_element("css selector", ".widget-textarea textarea")
    box.send_keys("We study convolutional neural networks for image segmentation on GPUs.")
    button = next(
        b
        for b in driver.find_elements("css selector", "button.jupyter-button")
        if "predict" in b.text
    )
    driver.execute_script("arguments[0].click();", button)
    _wait(
        lambda: any(
            "label path:" in e.text for e in driver.find_elements("css selector", ".widget-html")
        ),
        120,
        "a predicted label path",
    )
    shown = driver.find_elements("css selector", ".widget-html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown[-1])
    driver.save_screenshot(str(shots / "03_explorer_after.png"))
    _reopen_with_fresh_kernel(driver, base, token, "03_global_spp.ipynb", shots)

    _open_and_run_all(driver, base, token, "06_analysis.ipynb", shots)
    shown = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # 06's panel, not 03's hidden tab
    tables = driver.find_elements(
        "css selector", f"{shown} .jp-RenderedMarkdown table, {shown} .jp-RenderedHTMLCommon table"
    )
    assert tables, "06 renders its tables"
    assert driver.find_elements("css selector", f"{shown} .jp-OutputArea-output img")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", tables[0])
    driver.save_screenshot(str(shots / "06_analysis.png"))
