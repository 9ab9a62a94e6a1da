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


def test_the_explorer_pages_children_and_shows_data_four_ways():
    import gzip
    import tempfile

    import zkimport
    import zkwire
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    os.makedirs(ARTIFACTS, exist_ok=True)
    root = tempfile.mkdtemp(prefix="corral-console-explorer-")
    admin = servers.free_port()
    corral = zkimport.start_corral_on(os.path.join(root, "corral"), servers.free_port(), [
        "admin.enableServer=true", "admin.serverPort=%d" % admin, "admin.serverAddress=%s" % servers.HOST])
    driver = None
    try:
        c = corral.conn(timeout_ms=30000)
        assert c.create("/ex", b'{"a":1,"b":[2,3]}').err == 0
        assert c.create("/ex/many", b"").err == 0
        for i in range(250):
            c.submit("create", path="/ex/many/n%03d" % i, data=b"")
        c.drain(1.0)
        assert c.create("/ex/zipped", gzip.compress(b"packed text")).err == 0
        assert c.call("sync", path="/").err == 0
        driver = browser()
        driver.get("http://%s:%d/console" % (servers.HOST, admin))

        def wait(check, what):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if check():
                        return
                except Exception:
                    pass
                time.sleep(0.1)
            raise AssertionError(what + "; the page has: " + driver.find_element(By.ID, "explorer").text[:2000])

        text = lambda i: driver.find_element(By.ID, i).text
        field = driver.find_element(By.ID, "path")
        field.clear()
        field.send_keys("/ex")
        driver.find_element(By.ID, "go").click()
        wait(lambda: text("count") == "2 of 2 children", "/ex's children")
        Select(driver.find_element(By.ID, "view")).select_by_visible_text("json")
        wait(lambda: text("data") == '{\n  "a": 1,\n  "b": [\n    2,\n    3\n  ]\n}', "pretty JSON")
        Select(driver.find_element(By.ID, "view")).select_by_visible_text("hex")
        wait(lambda: text("data").startswith("7b 22 61 22 3a 31"), "hex")
        Select(driver.find_element(By.ID, "view")).select_by_visible_text("base64")
        wait(lambda: text("data") == "eyJhIjoxLCJiIjpbMiwzXX0=", "base64")
        assert "dataLength" in text("stat") and "world:anyone 31" in text("acl")
        driver.save_screenshot(os.path.join(ARTIFACTS, "console-explorer-node.png"))

        driver.find_element(By.CSS_SELECTOR, "#children li[data-path='/ex/many']").click()
        wait(lambda: text("count") == "100 of 250 children", "the first page of 250")
        driver.find_element(By.ID, "more").click()
        wait(lambda: text("count") == "200 of 250 children", "the second page")
        names = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#children li")]
        assert names == ["n%03d" % i for i in range(200)], names[:5]
        driver.save_screenshot(os.path.join(ARTIFACTS, "console-explorer-children.png"))

        driver.find_element(By.ID, "up").click()
        wait(lambda: text("count") == "2 of 2 children", "back up to /ex")
        driver.find_element(By.CSS_SELECTOR, "#children li[data-path='/ex/zipped']").click()
        Select(driver.find_element(By.ID, "view")).select_by_visible_text("text")
        wait(lambda: text("data") == "packed text" and "gzip" in text("gzip"), "the gzip node decompressed")
        c.close()
    finally:
        if driver is not None:
            driver.quit()
        corral.stop()
        shutil.rmtree(root, ignore_errors=True)
