"""Clean stage on real inputs: seed pages with boilerplate, HTML pages, mojibake."""
from __future__ import annotations

from polystory.clean import clean, fix_mojibake
from polystory.clean.text import LineStats, split_boilerplate
from polystory.config import Settings
from polystory.models import Article, PartialDate

from conftest import DEMO


def _seed(n: str) -> str:
    return next(DEMO.glob(f"{n}_*.txt")).read_text(encoding="utf-8")


def test_site_furniture_is_removed_from_a_scraped_page():
    doc = clean(Article(id="002", text=_seed("002")), Settings())
    assert doc.title == "G20: Foreign ministers of Russia and the USA exchange ideas for ten minutes"
    for junk in ("Advertisement", "Please enter your comment", "Must read", "Latest article",
                 "15.4 C", "More articles"):
        assert junk not in doc.text
    assert doc.text.startswith("Allegedly, it was US Secretary of State Antony Blinken")
    assert "Lavrov clearly registered this." in doc.text  # real paragraphs stay
    # the header date is the page's date: it becomes the publication date
    assert doc.published == PartialDate(2023, 3, 21)


def test_teaser_and_comment_form_are_removed():
    doc = clean(Article(id="003", text=_seed("003")), Settings())
    assert "Will Smith" not in doc.text
    assert "Lascia un commento" not in doc.text
    assert "indirizzo email" not in doc.text
    assert "Ginevra venerdì" in doc.text


def test_crawl_date_line_becomes_month_precision_published():
    doc = clean(Article(id="000", text=_seed("000")), Settings())
    assert doc.published == PartialDate(2023, 3)
    assert doc.text.startswith("Sekretari i Shtetit Antony Blinken")


def test_lines_repeated_across_documents_are_furniture():
    stats = LineStats()
    body = "This is a long enough sentence of the article body to count as prose text here."
    for i in range(3):
        stats.learn_one(f"{i}. {body}\nSubscribe to our daily briefing now\nAgain {i}: {body}")
    page = f"New: {body}\nSubscribe to our daily briefing now\nEnd: {body}"
    assert "Subscribe" not in split_boilerplate(page, stats).body
    assert "Subscribe" in split_boilerplate(page).body  # seen nowhere else: kept


def test_html_page_with_nav_ads_comments_and_script():
    para = ("Foreign ministers met on the fringes of the summit in New Delhi on Thursday and spoke "
            "for about ten minutes, officials said. ")
    html = f"""<!doctype html><html><head><title>Ministers meet | Site</title>
    <meta property="article:published_time" content="2023-03-02T10:00:00Z"></head><body>
    <nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>
    <article><h1>Ministers meet in Delhi</h1><p>{para * 3}</p>
    <div class="ad">Advertisement</div><p>{para * 2}</p>
    <script>document.write('tracking')</script><iframe src="https://ads.example"></iframe></article>
    <section id="comments"><h3>Leave a Reply</h3><p>Great article!! first comment</p></section>
    <footer>Copyright 2023 Example Media. All rights reserved.</footer></body></html>"""
    doc = clean(Article(id="h", text=html, html=True), Settings())
    assert doc.title.startswith("Ministers meet")
    assert doc.text.startswith("Foreign ministers met")
    for junk in ("Home", "tracking", "Leave a Reply", "first comment", "Copyright"):
        assert junk not in doc.text
    assert doc.published == PartialDate(2023, 3, 2)


def test_mojibake_is_repaired():
    assert fix_mojibake("Ã‡ok gÃ¼zel, TÃ¼rkiye") == "Çok güzel, Türkiye"
    # damaged text that was then NFKC-normalised ('¼' -> '1⁄4')
    assert fix_mojibake("gÃ1⁄4nlÃ1⁄4k") == "günlük"
    doc = clean(Article(id="m", text="Bu haber gÃ¼nlÃ¼k olarak yayÄ±nlanÄ±r ve herkes okuyabilir."), Settings())
    assert "günlük" in doc.text


def test_too_short_text_is_dropped():
    assert clean(Article(id="s", text="Too short."), Settings()) is None
