"""The site, built from the committed notebooks, opened in headless Chromium: every page of `_quarto.yml` loads with its
title, each findings page shows its figures (decoded, non-zero size) and its verdicts, the sidebar and the
previous/next links navigate, every internal link resolves, math is typeset by the site's own KaTeX (nothing is
fetched from elsewhere), every image has a meaningful alt text, code lines are not clipped, and no library page starts
with an empty cell. Screenshots of every page go to `runs/site-screenshots/`."""
import functools, http.server, re, shutil, threading, urllib.request
from pathlib import Path
import nbformat
import pytest
from selenium.webdriver.support.ui import WebDriverWait
from lmfinding.findings import FINDINGS
from lmfinding.site import build_site, katex_dir, site_pages

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT/'runs'/'site-screenshots'
VERDICT = re.compile(r'\(\w\) .*: (held|did not hold|inconclusive)')


def _binary(*names):
    found = [shutil.which(n) for n in names]
    return next((f for f in found if f), None)


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    assert katex_dir(), 'KaTeX is needed to typeset the math: `make katex` installs it (npm registry)'
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
    assert len(findings) == len(FINDINGS) and {p.section for p in pages} >= {'', 'Findings', 'How-to', 'Library'}
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


def _pages(site, browser):
    "Open every page in turn; yield it."
    base, pages = site
    for p in pages:
        browser.get(base + p.href)
        yield p


def test_every_internal_link_resolves(site, browser):
    base, broken = site[0], []
    for p in _pages(site, browser):
        hrefs = browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        for url in {h.split('#')[0] for h in hrefs if h.startswith(base)}:
            try: urllib.request.urlopen(url, timeout=10).close()
            except OSError as e: broken.append((p.href, url[len(base):], str(e)))
    assert not broken, broken


def _prose(path) -> str:
    "The markdown of a page's source, without code spans or blocks (where `$` is not math)."
    md = path.read_text() if path.suffix == '.md' else '\n'.join(
        c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == 'markdown')
    return re.sub(r'```.*?```|`[^`]*`', '', md, flags=re.S)


def test_math_is_typeset_offline(site, browser):
    base, pages = site
    with_math = [p for p in pages if re.search(r'\$\\[a-zA-Z]|\$\$', _prose(p.source))]
    assert {p.source.name for p in with_math} >= {'02_stability.ipynb', '11_probe.ipynb', 'background.md'}, with_math
    for p in _pages(site, browser):
        if p not in with_math: continue
        WebDriverWait(browser, 10).until(lambda b: b.find_elements('css selector', 'main .katex'), p.href)
        text = browser.execute_script("""const m = document.querySelector('main').cloneNode(true);
            m.querySelectorAll('pre, code, .katex').forEach(e => e.remove()); return m.textContent""")
        assert not re.search(r'\$\\(theta|mathbb|frac|sum)', text), (p.href, 'raw TeX left')
        urls = browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
        assert all(u.startswith(base) or u.startswith('data:') for u in urls), (p.href, urls)


def test_every_image_has_a_meaningful_alt_text(site, browser):
    bad = []
    for p in _pages(site, browser):
        alts = browser.execute_script("return Array.from(document.images).map(i => i.alt)")
        bad += [(p.href, a) for a in alts if len(a.strip()) < 10 or a.startswith('No description')]
    assert not bad, bad


def test_code_lines_are_not_clipped(site, browser):
    clipped = []
    for p in _pages(site, browser):
        wide = browser.execute_script("""return Array.from(document.querySelectorAll('main pre'))
            .filter(e => e.scrollWidth > e.clientWidth + 1
                         && !['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
            .map(e => e.textContent.slice(0, 60))""")
        page_wide = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
        clipped += [(p.href, w) for w in wide] + ([(p.href, 'the page scrolls sideways')] if page_wide else [])
    assert not clipped, clipped


def test_library_pages_start_with_code_not_an_empty_cell(site, browser):
    empty = []
    for p in _pages(site, browser):
        if p.section != 'Library': continue
        first = browser.execute_script(
            "const c = document.querySelector('main .input_area'); return c ? c.textContent : null")
        if first is not None and not first.strip(): empty.append(p.href)
    assert not empty, empty


def test_library_pages_show_their_examples_outputs(site, browser):
    """Every library page that has a visible code cell shows at least one output under it (`make outputs` stores
    them in the notebooks; the site never runs code)."""
    bare = []
    for p in _pages(site, browser):
        if p.section != 'Library': continue
        n_outputs = browser.execute_script("return document.querySelectorAll('main .output_area, main "
                                           ".jp-OutputArea-output, main .output_subarea').length")
        if not n_outputs: bare.append(p.href)
    assert not bare, f'library pages with no outputs (run `make outputs`): {bare}'
