"""The web console in a real browser (Debian's headless Chromium, driven by Selenium):
on a 3-member ensemble the Ensemble page shows one leader and two followers with a
quorum; after kill -9 of the leader it shows that member DOWN and a new leader, without
a reload. Screenshots go to $CORRAL_ARTIFACTS (target/test-artifacts by default)."""

import os
import shutil
import signal
import time

import pytest

import ensemble
import servers

CHROMEDRIVER = "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMEDRIVER), reason="Debian's chromium-driver is not installed")
ARTIFACTS = os.environ.get("CORRAL_ARTIFACTS", os.path.join(os.path.dirname(__file__), "..", "target", "test-artifacts"))


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    if shutil.which("chromium"):
        options.binary_location = shutil.which("chromium")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def cards(driver):
    """(address, state, role) of each card the page shows now."""
    from selenium.webdriver.common.by import By
    return [(c.get_attribute("data-address"), c.get_attribute("data-state"), c.get_attribute("data-role"))
            for c in driver.find_elements(By.CSS_SELECTOR, ".card")]


def wait_until(driver, check, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check(cards(driver)):
                return
        except Exception:
            pass  # the page is redrawing its cards
        time.sleep(0.2)
    raise AssertionError("%s; the page shows %s" % (what, cards(driver)))


def test_the_ensemble_page_follows_a_leader_failover_without_a_reload():
    os.makedirs(ARTIFACTS, exist_ok=True)
    admin_ports = [servers.free_port() for _ in range(3)]
    ens = ensemble.Ensemble(3, extra_cfg=lambda i: (
        "admin.enableServer=true\nadmin.serverAddress=%s\nadmin.serverPort=%d\n" % (servers.HOST, admin_ports[i])))
    driver = None
    try:
        leader = ens.start().wait_settled()
        watcher = (leader + 1) % 3
        driver = browser()
        driver.get("http://%s:%d/console" % (servers.HOST, admin_ports[watcher]))
        roles = lambda cs: sorted(r for _, s, r in cs if s == "SERVING")
        wait_until(driver, lambda cs: len(cs) == 3 and roles(cs) == ["follower", "follower", "leader"],
                   "no card per member with one leader")
        from selenium.webdriver.common.by import By
        assert driver.find_element(By.ID, "banner").text == "Quorum: yes"
        led = ens.members[leader].address
        assert [a for a, _, r in cards(driver) if r == "leader"] == [led]
        driver.save_screenshot(os.path.join(ARTIFACTS, "console-ensemble.png"))

        ens.members[leader].stop(signal.SIGKILL)
        wait_until(driver, lambda cs: dict((a, s) for a, s, _ in cs).get(led) == "DOWN"
                   and [a for a, s, r in cs if r == "leader" and s == "SERVING" and a != led],
                   "the killed leader is not DOWN, or no new leader")
        assert driver.find_element(By.ID, "banner").text == "Quorum: yes"
        driver.save_screenshot(os.path.join(ARTIFACTS, "console-after-failover.png"))
    finally:
        if driver is not None:
            driver.quit()
        ens.stop()
