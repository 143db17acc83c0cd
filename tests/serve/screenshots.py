"""Take docs/screenshots/stories.png, event.png and story.png (a story's page with its
timeline): the five seeds served, seen in Chromium.

Run from the repository root: ``python -m tests.serve.screenshots`` (not a test).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .browser import chromium, why_not
from .conftest import Live, seed_records

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main() -> int:
    reason = why_not()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        live = Live(str(Path(tmp) / "shots.db"))
        try:
            results = live.post(seed_records())
            g20 = results[0]["event"]
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(live.url + "/#/")
                page.wait_for_selector("body[data-ready='#/'] .story")
                page.screenshot(path=str(OUT / "stories.png"), full_page=True)
                page.goto(f"{live.url}/#/event/{g20}")
                page.wait_for_selector(f"body[data-ready='#/event/{g20}'] .column")
                page.screenshot(path=str(OUT / "event.png"), full_page=True)
                story = results[0]["story"]
                page.goto(f"{live.url}/#/story/{story}")
                page.wait_for_selector(f"body[data-ready='#/story/{story}'] .tl-entry")
                page.screenshot(path=str(OUT / "story.png"), full_page=True)
        finally:
            live.close()
    print(f"wrote {OUT / 'stories.png'}, {OUT / 'event.png'} and {OUT / 'story.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
