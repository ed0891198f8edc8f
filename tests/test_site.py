"""The site, built from the committed notebooks, opened in headless Chromium: every page of `_quarto.yml` loads with its
title, each findings page shows its figures (decoded, non-zero size) and its verdicts, the sidebar and the
previous/next links navigate. Screenshots of every page go to `runs/site-screenshots/`."""
import functools, http.server, re, shutil, threading
from pathlib import Path
import pytest
from lmfinding.site import build_site, site_pages

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT/'runs'/'site-screenshots'
VERDICT = re.compile(r'\(\w\) .*: (held|did not hold|inconclusive)')


def _binary(*names):
    found = [shutil.which(n) for n in names]
    return next((f for f in found if f), None)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'_site'
    home, renderer = build_site(ROOT, out, renderer='nbconvert')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/', site_pages(ROOT)
    server.shutdown()


@pytest.fixture(scope='module')
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chrome, driver = _binary('chromium', 'chromium-browser', 'google-chrome'), _binary('chromedriver')
    assert chrome and driver, 'headless Chromium and chromedriver are needed: `make browser` installs them (Debian)'
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-dev-shm-usage', '--window-size=1400,1000'):
        opts.add_argument(a)
    b = webdriver.Chrome(options=opts, service=Service(driver))
    yield b
    b.quit()


def _images(browser):
    return browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")


def test_every_page_loads_and_findings_show_figures_and_verdicts(site, browser):
    base, pages = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    findings = [p for p in pages if p.section == 'Findings']
    assert len(findings) == 3 and {p.section for p in pages} >= {'', 'Findings', 'How-to', 'Library'}
    for p in pages:
        browser.get(base + p.href)
        assert browser.title.startswith(p.title), (p.href, browser.title)
        assert browser.find_element('css selector', 'main h1').text.strip().startswith(p.title.split(':')[0])
        browser.save_screenshot(str(SHOTS/(p.href.replace('/', '__') + '.png')))
        if p in findings:
            imgs = _images(browser)
            assert len(imgs) >= 2 and all(ok and w > 0 and h > 0 for ok, w, h in imgs), (p.href, imgs)
            text = browser.find_element('css selector', 'main').text
            assert len(VERDICT.findall(text)) >= 3, (p.href, text[-1500:])


def test_navigation_between_pages(site, browser):
    base, pages = site
    browser.get(base)                                           # the site's index opens the home page
    assert browser.current_url.endswith(pages[0].href)
    second = next(p for p in pages if p.section == 'Findings')
    browser.find_element('link text', second.title).click()
    assert browser.current_url.endswith(second.href)
    assert 'current' in browser.find_element('link text', second.title).get_attribute('class')
    browser.find_element('css selector', 'a[rel=next]').click()
    assert browser.current_url.endswith(pages[pages.index(second) + 1].href)
    browser.find_element('css selector', 'a[rel=prev]').click()
    assert browser.current_url.endswith(second.href)
