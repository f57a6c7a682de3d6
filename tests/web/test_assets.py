"""Static files: named by their content, cached for a year, compressed once; plain names still served."""

import hashlib
import re

import brotli

from tests.support import ROOT
from tests.support.desk import desk_config
from webapp import create_app
from webapp.web.assets import as_served, build

STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
YEAR = "public, max-age=31536000, immutable"
CHROMIUM = "gzip, deflate, br, zstd"


def linked(page: str) -> dict[str, str]:
    """Each static URL of the page (href= or src=) -> the file it names, without the hash."""
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    return {url: re.sub(r"\.[0-9a-f]{12}(\.[^./]+)$", r"\1", url.removeprefix("/static/")) for url in urls}


def test_the_page_links_every_static_file_by_its_content_hash(client):
    page = client.get("/").get_data(as_text=True)
    urls = linked(page)
    assert set(urls.values()) == {"favicon.svg", "vendor/pico-2.1.1.min.css", "css/app.css",
                                  "vendor/htmx-2.0.11.min.js", "js/app.js"}
    for url, name in urls.items():
        digest = hashlib.sha256(as_served(name, (STATIC / name).read_bytes())).hexdigest()[:12]
        assert url == f"/static/{name.rsplit('.', 1)[0]}.{digest}.{name.rsplit('.', 1)[1]}"


def test_hashed_files_are_cached_for_a_year_and_sent_compressed(client):
    for url, name in linked(client.get("/").get_data(as_text=True)).items():
        original = as_served(name, (STATIC / name).read_bytes())
        plain = client.get(url)
        assert plain.status_code == 200, url
        assert plain.headers["Cache-Control"] == YEAR
        assert plain.get_data() == original and "Content-Encoding" not in plain.headers
        packed = client.get(url, headers={"Accept-Encoding": CHROMIUM})
        assert packed.headers["Cache-Control"] == YEAR and packed.headers["Vary"] == "Accept-Encoding"
        if len(original) > 1000:
            assert packed.headers["Content-Encoding"] == "br", url
            assert brotli.decompress(packed.get_data()) == original
        gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert gzipped.headers.get("Content-Encoding") in ("gzip", None)


def test_plain_static_urls_still_work_and_are_checked_each_time(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "css" / "app.css").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/css/app.css", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/static/css/nothing.css").status_code == 404


def test_static_files_carry_the_pages_security_headers(client):
    page = client.get("/")
    url = next(iter(linked(page.get_data(as_text=True))))
    for response in (client.get(url), client.get("/static/css/app.css")):
        for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                     "X-Frame-Options"):
            assert response.headers[name] == page.headers[name], name


def test_a_new_instance_names_its_files_without_a_build_step(sandbox_server, tmp_path):
    """As on a PaaS after `pip install`: nothing prepared, the first start makes the hashed files."""
    config = desk_config(sandbox_server.url, tmp_path)
    config.pop("STATIC_BUILD_FOLDER", None)
    client = create_app(config).test_client()
    client.post("/login", data={"username": "alice", "password": "correct horse 7"})
    urls = linked(client.get("/").get_data(as_text=True))
    assert all(re.search(r"\.[0-9a-f]{12}\.\w+$", url) for url in urls)
    assert all(client.get(url).headers["Cache-Control"] == YEAR for url in urls)
    assert (tmp_path / "instance" / "static" / "css").is_dir()


def test_templates_name_static_files_only_through_url_for():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "/static/" not in text, template
        for reference in re.findall(r"url_for\('static'[^)]*\)", text):
            assert re.fullmatch(r"url_for\('static', filename='[\w./-]+'\)", reference), reference


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, built = tmp_path / "static", tmp_path / "instance" / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "app.css").write_text("body { color: black; }\n" * 100)
    first = build(str(source), str(built))["css/app.css"]
    assert build(str(source), str(built))["css/app.css"] == first  # nothing changed, nothing rebuilt
    (source / "css" / "app.css").write_text("body { color: navy; }\n" * 100)
    second = build(str(source), str(built))["css/app.css"]
    assert second != first and re.fullmatch(r"css/app\.[0-9a-f]{12}\.css", second)
    # A page still open in a browser may ask for the old name until it is reloaded.
    assert (built / first).read_text() == "body{color:black}" * 100  # minified
    assert brotli.decompress((built / f"{second}.br").read_bytes()) == b"body{color:navy}" * 100
    assert (built / f"{second}.gz").exists()
    assert [p.name for p in built.parent.iterdir()] == ["static"]  # no drafts left behind


def test_the_desks_own_css_and_js_travel_minified_and_the_vendored_files_as_they_are():
    for name in ("css/app.css", "js/app.js"):
        written = (STATIC / name).read_bytes()
        served = as_served(name, written)
        assert len(served) < 0.8 * len(written), name  # comments and indentation gone
        assert b"/*" not in served and b"\n  " not in served
    # Template literals are kept whole only one level deep: the minifier takes a nested one's inner text
    # for code, and squeezes its spaces ("Total: " was said "Total:").
    script = (STATIC / "js" / "app.js").read_text()
    for line in script.splitlines():
        assert line.count("`") <= 2 or line.lstrip().startswith("//"), line
    for name in ("vendor/pico-2.1.1.min.css", "vendor/htmx-2.0.11.min.js", "favicon.svg"):
        assert as_served(name, (STATIC / name).read_bytes()) == (STATIC / name).read_bytes()
