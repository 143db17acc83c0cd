"""Pairwise "same event" and "same story" probabilities: the heart of polystory.

A raw multilingual embedding ranks same-language pairs above same-event pairs, so the
similarity of two articles combines several signals, each cheap and language-neutral:

* ``cos_raw``       cosine of the encoder vectors;
* ``cos_centered``  cosine after *language-bias correction*: each vector minus the mean
                    vector of its language (estimated online, starting from means fitted
                    on the SemEval sample), which removes the "written in Italian" direction;
* ``cross_cos``     ``cos_centered`` for pairs in two languages (its own weight);
* ``same_lang``     both in one language;
* ``entities``      IDF-weighted cosine of the normalised names (transliterated, so
                    Лавров = Lavrov); IDF is learned online from the stream;
* ``numbers``       the same for numbers (scores, death tolls, durations);
* ``date_*``        agreement of the two event dates: close, far (log days), or unknown;
* ``weekday``       +1 when both name the same weekday, -1 when they name different ones;
* ``names_disjoint`` both name several actors/places but (almost) none of the same ones:
                    reports of one happening share names, so this is evidence against,
                    in any domain (another final, another summit);
* ``undated_*``     the text signals again for pairs without two dates, so the combiner
                    can weigh them differently when time cannot help;
* ``local_cos``     cosine of the two vectors minus each one's *local background*, the
                    mean of its nearest articles in the stream (``neighbourhood``): what
                    sets an article apart from its neighbours, which tells a report of
                    one happening from a report of a look-alike one.

A logistic combiner turns the features into a probability.  Its weights are data
(``polystory/data/combiner.json``), fitted by ``bench/fit_combiner.py`` on labelled pairs.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

import numpy as np

from ..embed.e5 import E5Small
from ..enrich.lexical import BUCKETS
from ..models import Document, PartialDate

__all__ = ["Item", "PairScorer", "EVENT_FEATURES", "load_combiner", "day_bounds", "date_conflict"]

EVENT_FEATURES = ("cos_raw", "cos_centered", "cross_cos", "same_lang", "entities", "numbers",
                  "date_known", "date_close", "date_far", "undated_cos", "undated_entities",
                  "weekday", "names_disjoint", "tfidf", "tfidf_title", "local_cos")
#: Day scale of date agreement: reports of one happening are dated within a day or two.
DATE_SCALE_DAYS = 2.0
#: Distances are compared on a log scale up to a year.
DATE_FAR_DAYS = 365.0
#: Event dates further apart than this are a conflict, and a conflict scales the "same
#: event" probability down by this factor (not to 0: an event date can be wrong).  Reports
#: of one happening keep coming for weeks (follow-ups, the hearing after an arrest, which
#: ECB+ counts as the same event: 16 of its 66 dev events have day dates more than 7 days
#: apart), while two dated look-alike happenings months apart (successive launches of one
#: rocket 84 days apart, finals a year apart) read nearly the same.  Measured with the
#: event-quality bench (docs/benchmarks.md): 7 days split ECB+ events, 90 merged the
#: launches; closer look-alikes are left to the learned date features.
DATE_CONFLICT_DAYS = 60
DATE_CONFLICT_FACTOR = 0.1
_CONFLICT_FAR = math.log1p(DATE_CONFLICT_DAYS) / math.log1p(DATE_FAR_DAYS)
#: ``names_disjoint``: both articles name at least this many distinct names, and the signal
#: decays with their name cosine on this scale (exp(-cosine / scale)).
DISJOINT_MIN_NAMES = 3
DISJOINT_SCALE = 0.05


@dataclass(frozen=True, slots=True)
class Item:
    """One article as the scorer sees it: its document, its (raw, unit) vector, and the
    vectors of its recall sentences (``doc.recalls``), if embedded."""

    doc: Document
    vec: np.ndarray
    recall_vecs: np.ndarray | None = None


def _like(p: np.ndarray) -> float | np.ndarray:
    """A probability for scalar features, a matrix for matrices."""
    return float(p) if np.ndim(p) == 0 else p


def _unit(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(n > 0, n, 1.0)


def day_bounds(dates: Sequence[PartialDate | None]) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (ordinals) of each date's interval; NaN where there is no date."""
    lo = np.array([np.nan if d is None else d.first_day().toordinal() for d in dates], dtype=np.float64)
    hi = np.array([np.nan if d is None else d.last_day().toordinal() for d in dates], dtype=np.float64)
    return lo, hi


def date_conflict(a_lo: np.ndarray, a_hi: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray) -> np.ndarray:
    """Which pairs of day intervals (rows ``a`` x columns ``b``, NaN: undated) lie more than
    ``DATE_CONFLICT_DAYS`` apart; an undated side conflicts with nothing.

    >>> lo, hi = day_bounds([PartialDate(2022, 5, 28), PartialDate(2024, 6), None])
    >>> date_conflict(lo, hi, lo, hi).astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    with np.errstate(invalid="ignore"):
        days = np.maximum(b_lo[None, :] - a_hi[:, None], a_lo[:, None] - b_hi[None, :])
        return days > DATE_CONFLICT_DAYS


def load_combiner() -> dict:
    """The fitted combiner weights shipped with the package."""
    text = resources.files("polystory").joinpath("data/combiner.json").read_text(encoding="utf-8")
    return json.loads(text)


def _date_features(da: Sequence[PartialDate | None], db: Sequence[PartialDate | None]) -> dict[str, np.ndarray]:
    """``date_known``, ``date_close`` and ``date_far`` of every pair ``(da[i], db[j])``."""
    a0, a1 = day_bounds(da)
    b0, b1 = day_bounds(db)
    known = ~np.isnan(a0)[:, None] & ~np.isnan(b0)[None, :]
    with np.errstate(invalid="ignore"):
        days = np.maximum(0.0, np.maximum(b0[None, :] - a1[:, None], a0[:, None] - b1[None, :]))
    days = np.where(known, days, 0.0)
    return {"date_known": known.astype(np.float64),
            "date_close": np.where(known, np.exp(-days / DATE_SCALE_DAYS), 0.0),
            "date_far": np.where(known, np.minimum(1.0, np.log1p(days) / math.log1p(DATE_FAR_DAYS)), 0.0)}


def _undated_signals(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The text signals again for the pairs without two dates (their own weights)."""
    undated = 1.0 - f["date_known"]
    return {"undated_cos": f["cos_centered"] * undated, "undated_entities": f["entities"] * undated}


class PairScorer:
    """Learns stream statistics online and scores pairs of articles.

    Parameters
    ----------
    language_prior
        Pseudo-count of the prior mean in each language's mean vector.
    combiner
        ``{"event": {"weights": {...}, "bias": b, "threshold": t}}``; defaults to the
        shipped fit.
    language_means
        The shipped mean vector per language (and ``_global``) of the encoder's vectors,
        the prior that each language's running mean starts from (``Encoder.language_means``);
        ``None``: e5's, as the default combiner is e5's (none where the vectors' dimension
        differs); ``{}``: none, the stream's own means.

    Attributes
    ----------
    n_docs_ : int
    lang_sum_, lang_n_ : per-language sums and counts of vectors
    entity_df_, number_df_ : document frequencies
    """

    def __init__(self, *, language_prior: float = 8.0, combiner: dict | None = None,
                 language_means: dict[str, np.ndarray] | None = None) -> None:
        self.language_prior = language_prior
        self.combiner = combiner
        self.language_means = language_means
        self.n_docs_ = 0
        self.lang_sum_: dict[str, np.ndarray] = {}
        self.lang_n_: Counter[str] = Counter()
        self.entity_df_: Counter[str] = Counter()
        self.number_df_: Counter[str] = Counter()
        self.term_df_ = np.zeros(BUCKETS, dtype=np.int32)
        self._priors = dict(E5Small().language_means if language_means is None else language_means)
        self._combiner = combiner or load_combiner()
        self._mean_cache: dict[str, np.ndarray] = {}
        self._norms: dict[tuple, float] = {}   # name-set norms under the current statistics

    # --- learning -------------------------------------------------------------
    def learn_one(self, item: Item) -> None:
        lang = item.doc.language
        if self._priors and len(next(iter(self._priors.values()))) != len(item.vec):
            if self.language_means is not None:
                raise ValueError(f"language_means have {len(next(iter(self._priors.values())))} "
                                 f"dimensions, the vectors {len(item.vec)}: pass the encoder's "
                                 "own (Encoder.language_means), or {} for none")
            self._priors = {}   # the default (e5's) means, and these are not e5's vectors
        self.n_docs_ += 1
        if lang not in self.lang_sum_:
            self.lang_sum_[lang] = np.zeros_like(item.vec, dtype=np.float64)
        self.lang_sum_[lang] += item.vec
        self.lang_n_[lang] += 1
        self.entity_df_.update(set(item.doc.entities))
        self.number_df_.update(set(item.doc.numbers))
        terms = item.doc.terms
        if terms is not None and len(terms):
            self.term_df_[terms.ids] += 1
        self._mean_cache.pop(lang, None)
        self._mean_cache.pop("", None)
        self._norms.clear()

    # --- language-bias correction ----------------------------------------------
    def _global_mean(self) -> np.ndarray | None:
        if "" not in self._mean_cache:
            prior = self._priors.get("_global")
            total = sum(self.lang_sum_.values()) if self.lang_sum_ else None
            n = sum(self.lang_n_.values())
            if prior is None and total is None:
                return None
            acc = (total if total is not None else 0) + self.language_prior * (prior if prior is not None else 0)
            self._mean_cache[""] = acc / (n + (self.language_prior if prior is not None else 0))
        return self._mean_cache[""]

    def language_mean(self, lang: str) -> np.ndarray | None:
        if lang not in self._mean_cache:
            prior = self._priors.get(lang)
            if prior is None:
                prior = self._global_mean()
            if prior is None:
                return None
            n = self.lang_n_.get(lang, 0)
            s = self.lang_sum_.get(lang, 0)
            self._mean_cache[lang] = (s + self.language_prior * prior) / (n + self.language_prior)
        return self._mean_cache[lang]

    def prior_mean(self, lang: str) -> np.ndarray | None:
        """The shipped mean vector of ``lang`` (else the shipped global mean), whatever the
        stream has seen; ``None`` where none ships for these vectors."""
        prior = self._priors.get(lang)
        return prior if prior is not None else self._priors.get("_global")

    def centered(self, item: Item) -> np.ndarray:
        mean = self.language_mean(item.doc.language)
        v = item.vec if mean is None else item.vec - mean
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    # --- features ---------------------------------------------------------------
    def _idf(self, df: Counter, key: str) -> float:
        # no floor: a name that every article carries (the story's protagonists) tells
        # nothing about *which* happening an article reports
        return math.log((self.n_docs_ + 1) / (df.get(key, 0) + 1))

    def _name_cosines(self, a: Sequence[tuple[str, ...]], b: Sequence[tuple[str, ...]],
                      df: Counter) -> np.ndarray:
        """IDF-weighted cosine of every pair of name sets (rows of ``a`` x rows of ``b``).

        Only the names that occur on both sides need columns; each set's norm needs all
        its names, and is cached until the statistics change (the next ``learn_one``)."""
        idf: dict[str, float] = {}

        def norm(names: tuple[str, ...]) -> float:
            key = (id(df), names)
            if key not in self._norms:
                total = 0.0
                for k in set(names):
                    if k not in idf:
                        idf[k] = self._idf(df, k)
                    total += idf[k] ** 2
                self._norms[key] = math.sqrt(total)
            return self._norms[key]

        out = np.zeros((len(a), len(b)))
        shared = {k for names in a for k in names}.intersection(k for names in b for k in names)
        if not shared:
            return out
        col = {k: j for j, k in enumerate(shared)}
        w = np.array([self._idf(df, k) for k in shared])

        def weights(rows: Sequence[tuple[str, ...]]) -> np.ndarray:
            m = np.zeros((len(rows), len(col)))
            for i, names in enumerate(rows):
                cols = [col[k] for k in names if k in col]
                m[i, cols] = w[cols]
            return m

        dot = weights(a) @ weights(b).T
        hit = dot > 0      # no shared weight, no similarity (also when names weigh 0 in all)
        if hit.any():
            na = np.array([norm(names) for names in a])
            nb = np.array([norm(names) for names in b])
            out[hit] = dot[hit] / np.outer(na, nb)[hit]
        return out

    def _idf_terms(self, term_ids: np.ndarray) -> np.ndarray:
        """IDF of the given term buckets (only those: the whole table changes with every
        article learnt, and recomputing all of it per call cost more than the rest)."""
        return np.log((self.n_docs_ + 1) / (self.term_df_[term_ids] + 1.0)).astype(np.float32)

    def _term_rows(self, items: Sequence[Item], title: bool, vocab: np.ndarray):
        """Unit TF-IDF rows of the items' terms (title terms: binary), as a sparse matrix
        over ``vocab`` (the sorted term buckets that occur: a column per bucket of them, not
        per bucket of all ``BUCKETS``, which scipy would allocate on every product)."""
        from scipy.sparse import csr_matrix

        ids, vals, indptr = [], [], [0]
        for it in items:
            t = it.doc.terms
            if t is None:
                indptr.append(indptr[-1])
                continue
            tid = t.title if title else t.ids
            idf = self._idf_terms(tid)
            w = idf if title else t.tf * idf
            n = float(np.sqrt(np.dot(w, w)))
            ids.append(np.searchsorted(vocab, tid))
            vals.append(w / n if n > 0 else w)
            indptr.append(indptr[-1] + len(tid))
        data = np.concatenate(vals) if vals else np.zeros(0, np.float32)
        cols = np.concatenate(ids) if ids else np.zeros(0, np.int32)
        return csr_matrix((data, cols, np.array(indptr)), shape=(len(items), max(len(vocab), 1)))

    def term_cosines(self, a: Sequence[Item], b: Sequence[Item], title: bool = False) -> np.ndarray:
        """TF-IDF cosine of the content terms of every pair (``title``: of the headlines)."""
        terms = [t.title if title else t.ids for it in (a if a is b else [*a, *b])
                 if (t := it.doc.terms) is not None]
        vocab = np.unique(np.concatenate(terms)) if terms else np.zeros(0, np.int64)
        ra = self._term_rows(a, title, vocab)
        rb = ra if a is b else self._term_rows(b, title, vocab)
        return np.asarray((ra @ rb.T).todense(), dtype=np.float64)

    def feature_matrix(self, a: Sequence[Item], b: Sequence[Item],
                       centered: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
                       dates: tuple[Sequence[PartialDate | None], Sequence[PartialDate | None]] | None = None,
                       local: tuple[np.ndarray, np.ndarray] | None = None,
                       ) -> dict[str, np.ndarray]:
        """Feature values of every pair ``(a[i], b[j])``, one ``len(a) x len(b)`` matrix per
        feature.  ``centered`` and ``dates`` override what would be computed from the items
        (cached vectors; an event's date for an undated member).  ``local`` gives each
        item's local background (``neighbourhood.Neighbourhoods.means``); without it
        there is no ``local_cos``."""
        ca, cb = centered or ([self.centered(x) for x in a], [self.centered(y) for y in b])
        ca, cb = np.asarray(ca, dtype=np.float64), np.asarray(cb, dtype=np.float64)
        va = np.asarray([x.vec for x in a], dtype=np.float64)
        vb = np.asarray([y.vec for y in b], dtype=np.float64)
        langs: dict[str, int] = {}
        la = np.array([langs.setdefault(x.doc.language, len(langs)) for x in a])
        lb = np.array([langs.setdefault(y.doc.language, len(langs)) for y in b])
        same = (la[:, None] == lb[None, :]).astype(np.float64)
        cos_c = ca @ cb.T
        f = {
            "cos_raw": va @ vb.T,
            "cos_centered": cos_c,
            "cross_cos": cos_c * (1.0 - same),
            "same_lang": same,
            "entities": self._name_cosines([x.doc.entities for x in a], [y.doc.entities for y in b],
                                           self.entity_df_),
            "numbers": self._name_cosines([x.doc.numbers for x in a], [y.doc.numbers for y in b],
                                          self.number_df_),
        }
        # without dates the text must carry the decision alone: its own weights
        da, db = dates or ([x.doc.event_date for x in a], [y.doc.event_date for y in b])
        f.update(_date_features(da, db))
        wa = np.array([-1 if x.doc.weekday is None else x.doc.weekday for x in a])
        wb = np.array([-1 if y.doc.weekday is None else y.doc.weekday for y in b])
        both = (wa >= 0)[:, None] & (wb >= 0)[None, :]
        f["weekday"] = np.where(both, np.where(wa[:, None] == wb[None, :], 1.0, -1.0), 0.0)
        f.update(_undated_signals(f))
        na = np.array([len(set(x.doc.entities)) >= DISJOINT_MIN_NAMES for x in a])
        nb = np.array([len(set(y.doc.entities)) >= DISJOINT_MIN_NAMES for y in b])
        f["names_disjoint"] = (na[:, None] & nb[None, :]) * np.exp(-f["entities"] / DISJOINT_SCALE)
        # words are shared within a language: the lexical signal is a same-language one
        f["tfidf"] = self.term_cosines(a, b) * same
        f["tfidf_title"] = self.term_cosines(a, b, title=True) * same
        if local is not None:
            f["local_cos"] = _unit(va - np.asarray(local[0], dtype=np.float64)) @ \
                _unit(vb - np.asarray(local[1], dtype=np.float64)).T
        return f

    def features(self, a: Item, b: Item, centered: tuple[np.ndarray, np.ndarray] | None = None,
                 dates: tuple[PartialDate | None, PartialDate | None] | None = None,
                 local: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
        """Feature values of one pair (``feature_matrix`` of one row and one column)."""
        m = self.feature_matrix([a], [b], None if centered is None else ([centered[0]], [centered[1]]),
                                None if dates is None else ([dates[0]], [dates[1]]),
                                None if local is None else ([local[0]], [local[1]]))
        return {name: float(v[0, 0]) for name, v in m.items()}

    def _proba(self, model: str, feats: dict) -> np.ndarray:
        spec = self._combiner[model]
        missing = [name for name in spec["weights"] if name not in feats]
        if missing:
            raise ValueError(f"the {model} combiner needs features {missing}: pass local= (each "
                             "item's local background) to feature_matrix for local_cos")
        z = spec["bias"] + np.zeros_like(np.asarray(feats["same_lang"], dtype=np.float64))
        z = z + sum(w * np.asarray(feats[name]) for name, w in spec["weights"].items())
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))

    def threshold(self, model: str) -> float:
        """The decision threshold calibrated with the combiner (``"event"``)."""
        return float(self._combiner[model].get("threshold", 0.5))

    def event_proba(self, feats: dict, conflict: np.ndarray | bool | None = None) -> float | np.ndarray:
        """Probability that two articles report the same happening (a matrix of them for
        the matrices of ``feature_matrix``).

        One happening has one date: when the two dates conflict (more than
        ``DATE_CONFLICT_DAYS`` apart, at their precision), the combiner's probability is
        scaled by ``DATE_CONFLICT_FACTOR``, however alike the texts are (successive
        launches of one rocket read nearly the same).  ``conflict`` says which pairs
        conflict when the dates to compare are not the features' own (an undated report
        standing in its event's date: ``date_conflict``); by default the features' dates
        decide; ``False``: no pair conflicts (the combiner alone).
        """
        return _like(self._gated(self._proba("event", feats), feats, conflict))

    @staticmethod
    def _gated(p: np.ndarray, feats: dict, conflict: np.ndarray | bool | None) -> np.ndarray:
        """``p`` scaled by ``DATE_CONFLICT_FACTOR`` where the dates conflict."""
        if conflict is None:
            conflict = (np.asarray(feats["date_known"]) > 0) & (np.asarray(feats["date_far"]) > _CONFLICT_FAR)
        return np.where(conflict, p * DATE_CONFLICT_FACTOR, p)

    def similarity(self, feats: dict, conflict: np.ndarray | bool | None = None) -> float | np.ndarray:
        """The similarity of two reports that ``polystory pairs`` gives: the mean of two
        probabilities that they tell the same news, from the same features.

        - ``event_proba``: the clusterer's decision, fitted on labelled events;
        - the combiner's ``graded`` head: fitted on people's graded ratings of pairs (the
          SemEval dev pairs: 1 "very similar" .. 4 "very dissimilar", as soft labels).
          The event decision is fitted to split look-alike happenings and cares little
          how unlike two different events are; people grade that too.  Its pairs carry no
          dates, so it learns no date weight: the date conflict scales it as it does the
          event probability.

        A combiner without a ``graded`` head (an encoder that ships none) gives
        ``event_proba`` alone.
        """
        p = self._proba("event", feats)
        if "graded" in self._combiner:
            p = (p + self._proba("graded", feats)) / 2.0
        return _like(self._gated(p, feats, conflict))

