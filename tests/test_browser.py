"""JupyterLab in a real (headless) browser, as a researcher who just cloned the project.

Opens 03 and 06 without running anything (the committed outputs: the cpu results and their
figures), then runs 03 (records only, nothing trains), trains a smoke run beside the cpu
records and checks that the explorer's cpu view has not moved, and predicts a pasted WoS
abstract with a converged, committed prefix. Starts JupyterLab on 127.0.0.1 from this venv on
a copy of the notebooks and the cpu records, drives Debian's ``chromium`` with
``chromedriver`` through selenium, and stops only the processes it started. Screenshots go to
``$HTCLIB_SCREENSHOTS`` (default: the test's temp folder).
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
    # the committed cpu records and prefix artifacts (nothing a run folder holds besides)
    keep = {"config.json", "result.json", "test_pred.json"}
    for d in (REPO / "results" / "cpu" / "runs").iterdir():
        if (d / "result.json").exists():
            (root / "results/cpu/runs" / d.name).mkdir(parents=True)
            for f in keep & {p.name for p in d.iterdir()}:
                shutil.copy2(d / f, root / "results/cpu/runs" / d.name / f)
            if (d / "artifact" / "config.json").exists():
                shutil.copytree(d / "artifact", root / "results/cpu/runs" / d.name / "artifact")
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JUPYTER_CONFIG_DIR": str(root / "jcfg")}
    log = open(root / "lab.log", "w")  # closed in the finally below
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
        stdout=log,
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
        log.close()


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


def _open_without_running(driver, base, token, name, shots) -> int:
    """Open ``name`` and wait for its committed outputs; returns how many figures it shows."""
    driver.get(f"{base}/lab/tree/{name}?token={token}")
    shown = ".jp-NotebookPanel:not(.lm-mod-hidden)"
    _wait(
        lambda: driver.find_elements("css selector", f"{shown} .jp-OutputArea-output img"),
        180,
        f"{name}'s committed figures",
    )
    # JupyterLab renders only the cells in view: scroll through the notebook, collecting the
    # figures it shows on the way, then back to the top for the screenshot
    seen = set()
    scroller = f"{shown} .jp-WindowedPanel-outer"
    for _ in range(60):
        for img in driver.find_elements("css selector", f"{shown} .jp-OutputArea-output img"):
            seen.add((img.get_attribute("src") or "")[-64:])
        at_end = driver.execute_script(
            "const s = document.querySelector(arguments[0]); if (!s) return true;"
            "const end = s.scrollTop + s.clientHeight >= s.scrollHeight - 2;"
            "s.scrollTop += s.clientHeight * 0.8; return end;",
            scroller,
        )
        time.sleep(0.4)
        if at_end:
            break
    driver.execute_script(
        "const s = document.querySelector(arguments[0]); if (s) s.scrollTop = 0;", scroller
    )
    for b in driver.find_elements(
        "css selector", ".jp-toast-button, .jp-Notification-Toast button"
    ):
        if b.text.strip() == "No":  # JupyterLab's first-run news prompt covers the page
            b.click()
    time.sleep(2)
    driver.save_screenshot(str(shots / f"{name[:2]}_opened.png"))
    return len(seen)


def _explorer_text(driver) -> str:
    return _wait(
        lambda: next(
            (e.text for e in driver.find_elements("css selector", ".widget-html")
             if e.text.startswith("P = ")),
            None,
        ),
        60,
        "the explorer's view",
    )  # fmt: skip


def test_the_workbook_opens_on_the_results_and_the_explorer_predicts(lab):
    driver, base, token, root, shots = lab
    # opened, not run: the committed cpu results with their figures
    assert _open_without_running(driver, base, token, "03_global_spp.ipynb", shots) >= 3
    page = driver.find_element("css selector", "body").text
    assert "What you are looking at" in page and "cpu" in page
    assert _open_without_running(driver, base, token, "06_analysis.ipynb", shots) >= 3

    # Run All with the defaults: records only, the explorer appears
    _open_and_run_all(driver, base, token, "03_global_spp.ipynb", shots, timeout=900)
    before = _explorer_text(driver)
    assert before.startswith("P = 30") and "mean over" in before and "seed" in before

    # a smoke run beside the cpu records must not move the cpu view
    smoke = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from htclib.training import experiment; from htclib.lab import profiles; "
         "(cfg,) = profiles.spp_runs(profiles.get_profile('smoke'), 'wos', [30]); "
         "experiment.run(cfg, Path(sys.argv[1]), progress=False)",
         str(root / "results" / "smoke")],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert smoke.returncode == 0, smoke.stderr[-2000:]
    assert list((root / "results" / "smoke" / "runs").glob("*/result.json"))
    _open_and_run_all(driver, base, token, "03_global_spp.ipynb", shots, timeout=900)
    assert _explorer_text(driver) == before, "a smoke run changed the cpu explorer"

    # predict a pasted WoS abstract with the converged prefix committed for P = 30
    box = driver.find_element("css selector", ".widget-textarea textarea")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    box.send_keys(
        "We propose a convolutional neural network for semantic image segmentation and train "
        "it on graphics processors; experiments on benchmark data sets show higher accuracy "
        "than earlier machine learning methods."
    )
    button = next(
        b
        for b in driver.find_elements("css selector", "button.jupyter-button")
        if "predict" in b.text
    )
    driver.execute_script("arguments[0].click();", button)
    said = _wait(
        lambda: next(
            (e.text for e in driver.find_elements("css selector", ".widget-html")
             if "prefix" in e.text and ("label path" in e.text or "candidates" in e.text)),
            None,
        ),
        180,
        "a prediction from a committed prefix",
    )  # fmt: skip
    assert "no artifact" not in said and "(0." in said
    shown = driver.find_elements("css selector", ".widget-html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", shown[-1])
    driver.save_screenshot(str(shots / "03_explorer_predicts.png"))
    (shots / "03_prediction.txt").write_text(said)
    _reopen_with_fresh_kernel(driver, base, token, "03_global_spp.ipynb", shots)
