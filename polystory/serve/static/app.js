// polystory web page: renders the JSON API of the same server.
// Article texts and titles are untrusted: every piece of data goes into the page through
// textContent (or a checked http(s) href), never through innerHTML.
"use strict";

const POLL_MS = 3000;          // how often the page asks /events whether anything changed
const LANGS = makeLanguageNames();

// --- DOM helpers -------------------------------------------------------------------------
/** An element with a few known properties set and children (strings become text nodes). */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const p = props || {};
  if (p.cls) node.className = p.cls;
  if (p.text !== undefined && p.text !== null) node.textContent = String(p.text);
  if (p.href) node.href = p.href;
  if (p.title) node.title = String(p.title);
  if (p.datetime) node.dateTime = p.datetime;
  if (p.data) for (const [k, v] of Object.entries(p.data)) node.dataset[k] = String(v);
  if (p.external) { node.target = "_blank"; node.rel = "noopener noreferrer"; }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** The URL if it is http(s), else null (no javascript: or data: links from article data). */
function safeUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function render(...nodes) {
  document.getElementById("view").replaceChildren(...nodes);
}

function makeLanguageNames() {
  try {
    const names = new Intl.DisplayNames(["en"], { type: "language" });
    return (code) => { try { return names.of(code) || code; } catch (e) { return code; } };
  } catch (e) {
    return (code) => code;
  }
}

// --- data ----------------------------------------------------------------------------------
async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const eventHref = (id) => "#/event/" + encodeURIComponent(id);
const storyHref = (id) => "#/story/" + encodeURIComponent(id);

/** A partial date (YYYY, YYYY-MM, YYYY-MM-DD) for people: "21 Mar 2023", "Jan 2022", "2023". */
function prettyDate(iso) {
  if (!iso) return "undated";
  const [y, m, d] = iso.split("-").map(Number);
  const when = new Date(Date.UTC(y, (m || 1) - 1, d || 1));
  const opts = { timeZone: "UTC", year: "numeric" };
  if (m) opts.month = "short";
  if (d) opts.day = "numeric";
  return when.toLocaleDateString("en-GB", opts);
}

/** Middle of a partial date's interval, in ms. */
function dateMid(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  if (d) return Date.UTC(y, m - 1, d);
  if (m) return (Date.UTC(y, m - 1, 1) + Date.UTC(y, m, 0)) / 2;
  return (Date.UTC(y, 0, 1) + Date.UTC(y, 11, 31)) / 2;
}

function dateNode(iso) {
  return el("time", { cls: iso ? "date" : "date undated", text: prettyDate(iso),
                      datetime: iso || undefined, data: { date: iso || "" } });
}

function languageChips(codes) {
  return el("span", { cls: "langs" },
    codes.map((c) => el("span", { cls: "lang", text: c, title: LANGS(c) })));
}

function plural(n, word, many) {
  return `${n} ${n === 1 ? word : many || word + "s"}`;
}

// --- pieces --------------------------------------------------------------------------------
/** Events on a time axis (dated ones by date, undated ones apart), each a link. */
function timeline(events, currentId) {
  const dated = events.filter((e) => e.event_date);
  const undated = events.filter((e) => !e.event_date);
  const mids = dated.map((e) => dateMid(e.event_date));
  const lo = Math.min(...mids), hi = Math.max(...mids);
  const axis = el("div", { cls: "axis" });
  dated.forEach((e, i) => {
    const pct = hi > lo ? 4 + 92 * (mids[i] - lo) / (hi - lo) : 50;
    const mark = el("a", { cls: "mark" + (i % 2 ? " below" : "") + (e.id === currentId ? " current" : ""),
                           href: eventHref(e.id), title: `${prettyDate(e.event_date)}: ${e.headline}`,
                           data: { eventId: e.id } },
      el("span", { cls: "dot" }),
      el("span", { cls: "mark-label" }, dateNode(e.event_date), " ",
         languageChips(e.languages), " ", el("span", { cls: "count", text: `×${e.article_count}` })));
    mark.style.left = pct + "%";   // CSSOM, allowed by the CSP (no inline style attribute)
    mark.style.setProperty("--size", String(Math.min(8 + 3 * e.article_count, 22)) + "px");
    axis.append(mark);
  });
  const parts = [el("div", { cls: "track" }, axis)];
  if (undated.length) {
    parts.push(el("div", { cls: "undated-lane" }, el("span", { cls: "lane-label", text: "undated" }),
      undated.map((e) => el("a", { cls: "mark-inline" + (e.id === currentId ? " current" : ""),
                                   href: eventHref(e.id), title: e.headline, data: { eventId: e.id } },
        languageChips(e.languages), " ", el("span", { cls: "count", text: `×${e.article_count}` })))));
  }
  return el("div", { cls: "timeline" + (dated.length ? "" : " no-dates") }, parts);
}

const LABEL_LANES = 3;   // label rows above the axis, and as many below
const LABEL_GAP = 6;     // px between two labels in one row

/** Lay out the labels of every time axis on the page so that none overlap: each label
 *  takes the first row (above 1, below 1, above 2, ...) where it clears the label before it;
 *  a label that fits in no row is hidden (its dot stays, with the date in its tooltip). */
function layoutAxes() {
  for (const axis of document.querySelectorAll(".axis")) {
    const marks = [...axis.querySelectorAll(".mark")]
      .sort((a, b) => a.getBoundingClientRect().left - b.getBoundingClientRect().left);
    const ends = new Array(2 * LABEL_LANES).fill(-Infinity);
    let used = 0;
    for (const mark of marks) {
      const label = mark.querySelector(".mark-label");
      mark.classList.remove("below", "hidden-label");
      for (let k = 0; k < 2 * LABEL_LANES; k++) mark.classList.remove("lane-" + k);
      const box = label.getBoundingClientRect();
      const lane = ends.findIndex((end) => box.left >= end + LABEL_GAP);
      if (lane < 0) { mark.classList.add("hidden-label"); continue; }
      ends[lane] = box.right;
      used = Math.max(used, lane + 1);
      mark.classList.add("lane-" + lane);
      if (lane % 2) mark.classList.add("below");
    }
    const rows = Math.ceil(used / 2);
    axis.closest(".track").dataset.rows = String(Math.max(rows, 1));
  }
}

/** A story's timeline as a readable list: date, summary, its events and articles. */
function timelineEntries(entries, events) {
  const byId = Object.fromEntries(events.map((e) => [e.id, e]));
  return el("ol", { cls: "tl-entries" }, entries.map((t) =>
    el("li", { cls: "tl-entry", data: { date: t.date } },
      dateNode(t.date),
      el("div", { cls: "tl-body" },
        el("p", { cls: "tl-summary", text: t.summary || "(no summary)" }),
        el("p", { cls: "tl-links" }, plural(t.articles.length, "article"), " · ",
           t.events.slice(0, 5).flatMap((id, i) => [i ? ", " : "",
             el("a", { href: eventHref(id), title: byId[id] ? byId[id].headline : id,
                       text: byId[id] ? (byId[id].headline || id).slice(0, 60) : id })]),
           t.events.length > 5 ? ` (+${t.events.length - 5} more events)` : "")))));
}

/** Events as rows: date, languages, article count, headline. */
function eventList(events, currentId, extra) {
  return el("ol", { cls: "events" }, events.map((e) =>
    el("li", { cls: "event-row" + (e.id === currentId ? " current" : ""), data: { eventId: e.id } },
      dateNode(e.event_date), languageChips(e.languages),
      el("span", { cls: "count", text: plural(e.article_count, "article") }),
      el("a", { cls: "headline", href: eventHref(e.id), text: e.headline || e.id }),
      extra ? extra(e) : null)));
}

function storyCard(story, currentEventId, titleTag) {
  const span = story.first_date
    ? (story.first_date === story.last_date ? prettyDate(story.first_date)
       : `${prettyDate(story.first_date)} – ${prettyDate(story.last_date)}`) : "undated";
  return el("section", { cls: "story", data: { storyId: story.id } },
    el(titleTag || "h2", { cls: "story-title" }, el("a", { href: storyHref(story.id), text: story.title || story.id })),
    el("p", { cls: "meta" }, `${plural(story.event_count, "event")} · ${plural(story.article_count, "article")} · `,
       languageChips(story.languages), ` · ${span}`),
    story.actors.length ? el("p", { cls: "actors" }, story.actors.map((a) => el("span", { cls: "actor", text: a }))) : null,
    timeline(story.events, currentEventId),
    eventList(story.events, currentEventId));
}

function evidenceBox(ev, titles) {
  const rows = [];
  const add = (label, value) => {
    if (value !== null && value !== undefined && value !== "") rows.push(el("dt", { text: label }), el("dd", { text: value }));
  };
  const said = {
    joined: "Joined this event: it scored above the threshold against the report below.",
    opened: "First report of this event" + (ev.closest ? " (the nearest other report was not close enough)." : "."),
    repaired: "Placed here when its neighbourhood was re-clustered with later reports.",
  }[ev.kind];
  if (ev.kind === "joined" || ev.closest) {
    add(ev.kind === "joined" ? "closest report" : "nearest elsewhere",
        ev.closest ? (titles[ev.closest] || ev.closest) : null);
    add("similarity", ev.similarity);
    add("probability same event", ev.probability);
    add("shared names", sharedNames(ev));
    add("date agreement", ev.date_agreement === null ? "no date to compare" : ev.date_agreement);
  }
  return el("div", { cls: "why " + ev.kind }, el("h4", { text: "Why grouped" }), el("p", { text: said }),
            rows.length ? el("dl", {}, rows) : null);
}

/** Shared names as the articles write them; keys without a written form are only counted. */
function sharedNames(ev) {
  const keys = ev.shared_names || [], shown = ev.shared_names_display || [];
  const named = shown.filter((name, i) => name !== keys[i]);
  const rest = keys.length - named.length;
  return named.join(", ") + (rest ? `${named.length ? " " : ""}(+${rest} more)` : "");
}

function fullText(articleId) {
  const body = el("p", { cls: "fulltext", text: "Loading…" });
  const box = el("details", { cls: "more" }, el("summary", { text: "Full text" }), body);
  box.addEventListener("toggle", async () => {
    if (!box.open || box.dataset.loaded) return;
    box.dataset.loaded = "1";
    try {
      const a = await api("/articles/" + encodeURIComponent(articleId));
      body.textContent = a.document ? a.document.text : a.text;
    } catch (err) {
      body.textContent = "Could not load: " + err.message;
    }
  });
  return box;
}

function articleCard(a, titles) {
  const url = safeUrl(a.url);
  const meta = [a.source, a.published ? "published " + prettyDate(a.published) : null,
                a.event_date ? "reports " + prettyDate(a.event_date) : null].filter(Boolean).join(" · ");
  return el("article", { cls: "card", data: { articleId: a.id } },
    el("h3", { cls: "title", text: a.headline || a.title || a.id }),
    el("p", { cls: "meta", text: meta || a.id }),
    url ? el("p", { cls: "link" }, el("a", { href: url, external: true, text: new URL(url).host + " ↗" })) : null,
    el("p", { cls: "snippet", text: a.snippet + (a.truncated ? " …" : "") }),
    a.truncated ? fullText(a.id) : null,
    evidenceBox(a.evidence, titles));
}

// --- views ---------------------------------------------------------------------------------
async function showStories() {
  const data = await api("/stories?limit=200");
  if (!data.stories.length) {
    render(el("h1", { text: "Stories" }),
           el("p", { cls: "muted", text: "Nothing here yet: POST articles to /articles or run `polystory ingest` on this store." }));
    return;
  }
  render(el("h1", { text: "Stories" }),
         el("p", { cls: "muted", text: `${plural(data.total, "story", "stories")}, largest first; events on a time axis.` }),
         el("div", { cls: "stories" }, data.stories.map((s) => storyCard(s))));
}

async function showStory(id) {
  const story = await api("/stories/" + encodeURIComponent(id));
  const feed = el("a", { cls: "feed", href: "/stories/" + encodeURIComponent(id) + ".atom", text: "Atom feed of this story" });
  feed.type = "application/atom+xml";
  // summaries in the reader's language where the story has reports in it
  const lang = (navigator.language || "").slice(0, 2).toLowerCase();
  const tl = await api("/stories/" + encodeURIComponent(id) + "/timeline" +
                       (/^[a-z]{2}$/.test(lang) ? "?lang=" + lang : "")).catch(() => null);
  render(el("p", { cls: "crumbs" }, el("a", { href: "#/", text: "Stories" }), " · ", feed), storyCard(story, null, "h1"),
         tl && tl.timeline.length ? el("section", { cls: "story-timeline" },
           el("h2", { text: "Timeline" }),
           el("p", { cls: "muted", text: "The dates that matter most, each summarised from its reports." }),
           timelineEntries(tl.timeline, story.events)) : null);
}

function neighbourLink(e, label, cls) {
  if (!e) return el("span", { cls: cls + " none", text: label === "prev" ? "first event of the story" : "latest event of the story" });
  return el("a", { cls: cls, href: eventHref(e.id), data: { eventId: e.id } },
    label === "prev" ? "← " : "", dateNode(e.event_date), " ", e.headline, label === "next" ? " →" : "");
}

async function showEvent(id) {
  const e = await api("/events/" + encodeURIComponent(id));
  const titles = {};
  for (const list of Object.values(e.by_language)) for (const a of list) titles[a.id] = a.headline || a.id;
  const columns = Object.entries(e.by_language).map(([lang, list]) =>
    el("section", { cls: "column", data: { lang } },
      el("h2", {}, el("span", { cls: "lang", text: lang }), " ", LANGS(lang),
         el("span", { cls: "count", text: " · " + plural(list.length, "article") })),
      list.length > 1 ? el("p", { cls: "lang-headline", text: e.headlines[lang] || "" }) : null,
      list.map((a) => articleCard(a, titles))));
  const parts = [
    el("p", { cls: "crumbs" }, el("a", { href: "#/", text: "Stories" }),
       e.story ? [" › ", el("a", { href: storyHref(e.story), text: e.story_title || e.story })] : null),
    el("h1", { cls: "event-headline", text: e.headline || e.id }),
    el("p", { cls: "meta" }, dateNode(e.event_date), ` · ${plural(e.article_count, "article")} in `,
       plural(e.languages.length, "language"), " ", languageChips(e.languages)),
    e.actors.length ? el("p", { cls: "actors" }, e.actors.map((a) => el("span", { cls: "actor", text: a }))) : null,
    e.story ? el("nav", { cls: "neighbours" }, neighbourLink(e.previous, "prev", "prev"),
                 neighbourLink(e.next, "next", "next")) : null,
    el("div", { cls: "columns" }, columns),
  ];
  if (e.story) {
    const story = await api("/stories/" + encodeURIComponent(e.story)).catch(() => null);
    if (story) parts.push(el("h2", { text: "In this story" }), timeline(story.events, e.id), eventList(story.events, e.id));
  }
  render(...parts);
}

async function showSearch(q) {
  document.getElementById("search-input").value = q;
  if (!q.trim()) return render(el("h1", { text: "Search" }), el("p", { cls: "muted", text: "Type words in any language." }));
  render(el("h1", {}, "Results for ", el("q", { text: q })), el("p", { cls: "muted", text: "Searching…" }));
  const data = await api("/search?q=" + encodeURIComponent(q));
  const names = (e) => e.matched_names.length
    ? el("span", { cls: "matched", text: "names: " + e.matched_names.join(", ") }) : null;
  render(el("h1", {}, "Results for ", el("q", { text: q })),
         el("p", { cls: "muted", text: data.total ? plural(data.total, "event") : "No event matches." }),
         el("div", { cls: "results" }, eventList(data.results, null, names)));
}

// --- routing and live updates --------------------------------------------------------------
function currentView() {
  const [path, query] = (location.hash || "#/").slice(1).split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "event" && parts[1]) return () => showEvent(parts[1]);
  if (parts[0] === "story" && parts[1]) return () => showStory(parts[1]);
  if (parts[0] === "search") return () => showSearch(new URLSearchParams(query || "").get("q") || "");
  return showStories;
}

async function refresh(keepScroll) {
  const y = window.scrollY;
  try {
    await currentView()();
    layoutAxes();
    document.body.dataset.ready = location.hash || "#/";
  } catch (err) {
    render(el("h1", { text: "Not available" }), el("p", { cls: "error", text: err.message }),
           el("p", {}, el("a", { href: "#/", text: "Back to the stories" })));
    document.body.dataset.ready = "error";
  }
  window.scrollTo(0, keepScroll ? y : 0);
}

let lastKey = null;
let polling = false;

async function poll() {
  if (polling || document.hidden) return;
  polling = true;
  try {
    const d = await api("/events?limit=0");
    const key = `${d.revision}:${d.total}:${d.article_total}`;
    if (lastKey !== null && key !== lastKey) {
      await refresh(true);
      document.getElementById("live").textContent = "updated " + new Date().toLocaleTimeString("en-GB");
    }
    lastKey = key;
  } catch (err) {
    document.getElementById("live").textContent = "offline";
  } finally {
    polling = false;
  }
}

function start() {
  document.getElementById("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    const hash = "#/search?q=" + encodeURIComponent(q);
    if (location.hash === hash) refresh(false);
    else location.hash = hash;
  });
  window.addEventListener("resize", layoutAxes);
  window.addEventListener("hashchange", () => { document.body.dataset.ready = ""; refresh(false); });
  refresh(false);
  poll();
  setInterval(poll, POLL_MS);
}

start();
