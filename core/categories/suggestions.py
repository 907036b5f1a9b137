"""Category suggestions from a report's text, English or Chinese, with the words that decided.

When a case handler opens a case, the console may suggest a category from the decrypted report
and show why. The method is naive Bayes over words, one category against the rest:

1. ``tokenize`` turns a text into tokens. Runs of Chinese characters are segmented by jieba's
   dictionary (deterministic: the same text always gives the same words), a long word adding
   the common words inside it (安全更新: 安全, 更新); runs of Latin letters and digits are
   lower-cased words, lightly stemmed (plural, -ed, -ing). Stop words of both languages, words
   that say nothing about a category, are dropped. Each pair of neighbouring words is a token
   too ("nobody owns", "没人 负责"), so the phrases of the keyword rules count as phrases, and
   so is each pair of neighbouring Chinese characters (what segmentation splits differently
   from the rules still matches).
2. ``build_model`` counts, for every category, how often each token occurs in its training
   documents: one pseudo-document per category made from the shipped keyword rules
   (core.categories.suggestion_words), plus any (text, confirmed category) pairs the
   caller passes in (or their token counts). A category without keyword rules (one an
   operator added) is seeded instead from the names and descriptions the operator wrote
   for it, each telling word of them a term weighing ``DESCRIPTION_WEIGHT``, until the operator
   gives it keywords of its own. An operator's keywords (``CategoryWords.keywords``) count
   as keyword terms: added to the shipped rules of a default category, the only rules of
   an added one. Each keyword
   term weighs ``seed_weight`` counts in all, shared evenly among its tokens (rounded, at
   least one each): "vpn" is one token counted 15 times, 无法登录 six tokens (无法, 登录, the
   pair, three character pairs) counted 3 times each. A term is one piece of evidence
   however many tokens it makes, the way Rennie et al. (2003) normalise documents by
   length; before, each token of a term was counted 6 times, so a Chinese term (3.3 tokens
   on average) weighed twice an English one (1.6).
3. A token's weight for a category is its log-likelihood ratio, log P(token | category) -
   log P(token | any other category), both estimated from the counts with add-alpha
   smoothing (alpha = 1 would be Laplace's rule; 0.5 measured better on the sample set).
   ``suggest`` adds up the weights of the report's tokens for each category, once per
   occurrence, and picks the highest sum. Tokens the model never saw are left out.

Why it is transparent: a category's score is a plain sum of one number per token, and each
number is a ratio of two counts the handler could check (``Model.count``). ``suggest`` names the
five words with the largest weight for the suggested category, as the report wrote them, with
their weights in nats: a handler sees at once whether the suggestion rests on words that
matter ("kickback", "回扣") or on chance ones, and judges it accordingly.

What is kept: nothing. The module never writes anything, and a ``Model`` holds only counts of
tokens and neighbouring pairs per category: never a text, a sentence or a link to the document
a count came from. Counts made from confirmed cases still name words those cases used, so a
model trained on case text must live in memory only (or be stored encrypted by its caller);
the keyword-only model (``keyword_model``) carries no case data and is cached. jieba is
loaded lazily (core.categories.tokens, which does the tokenizing).

Accuracy and speed on the labelled sample set: benches/classify.py and benches/README.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from core.categories.suggestion_words import KEYWORDS
from core.categories.tokens import telling_words, tokenize, words_as_written

__all__ = ["CategoryWords", "Model", "Reason", "Suggestion", "build_model", "keyword_model",
           "seed_model", "seeded_by_description", "suggest", "tokenize"]

#: How many counts each term of a category's keyword rules adds to its pseudo-document, shared
#: evenly among the term's tokens (about the total the rules had when each token of a term was
#: counted 6 times: a term makes 2.4 tokens on average).
SEED_WEIGHT = 15
#: How many counts each word of an operator's names and descriptions of a category without
#: keyword rules adds to its pseudo-document, shared among the word's tokens like a keyword
#: term's (15): fewer, because a description is written for reporters, not for the model.
#: Only telling words count (core.categories.tokens.telling_words: no pairs, no very common
#: Chinese word). Measured in benches/README.md ("Categories an organisation adds").
DESCRIPTION_WEIGHT = 5
#: The smoothing constant: add-alpha to every count (alpha = 1 is Laplace's rule).
ALPHA = 0.5
#: Below this confidence (one-against-the-rest posterior) ``suggest`` returns None.
MIN_CONFIDENCE = 0.5
#: How many distinct tokens must weigh for the best category before ``suggest`` names it.
MIN_WORDS = 2
#: How many words ``suggest`` names as the reason.
WHY_WORDS = 5

class Model:
    """Token counts per category, built by ``build_model``; read-only once built.

    It holds only integers keyed by (category, token), a token being a word or a pair of
    neighbouring words, and the smoothing constant: no text, no sentence, no order beyond
    those pairs, and no link to the documents the counts came from. Counts made from confirmed
    cases still name words those cases used, so such a model is kept in memory and never
    persisted here.
    """

    __slots__ = ("_alpha", "_counts", "_token_totals", "_totals", "_total", "_vocabulary")

    def __init__(self, counts: Mapping[str, Mapping[str, int]], alpha: float = 1.0) -> None:
        if alpha <= 0:
            raise ValueError("alpha must be positive")
        self._alpha = alpha
        self._counts: dict[str, dict[str, int]] = {
            category: {word: n for word, n in words.items() if n > 0}
            for category, words in counts.items()}
        self._totals = {category: sum(words.values()) for category, words in self._counts.items()}
        self._total = sum(self._totals.values())
        token_totals: Counter[str] = Counter()
        for words in self._counts.values():
            token_totals.update(words)
        self._token_totals = dict(token_totals)
        self._vocabulary = frozenset(token_totals)

    @property
    def categories(self) -> tuple[str, ...]:
        """The category codes the model can suggest, in the order they were given."""
        return tuple(self._counts)

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every token counted for at least one category."""
        return self._vocabulary

    def count(self, category: str, token: str) -> int:
        """How many times ``token`` was counted for ``category`` (0 if never)."""
        return self._counts.get(category, {}).get(token, 0)

    def total(self, category: str) -> int:
        """The number of tokens counted for ``category``."""
        return self._totals.get(category, 0)

    def weight(self, token: str, category: str) -> float:
        """The log-likelihood ratio of ``token`` for ``category`` against all the others.

        log P(token | category) - log P(token | any other category), each estimated from the
        counts with add-alpha smoothing over the vocabulary (Laplace's rule when alpha = 1).
        Positive: the token is likelier in reports of this category.
        """
        inside = self.count(category, token)
        outside = self._token_totals.get(token, 0) - inside
        size = self._alpha * len(self._vocabulary)
        return (math.log((inside + self._alpha) / (self.total(category) + size))
                - math.log((outside + self._alpha) / (self._total - self.total(category) + size)))


@dataclass(frozen=True)
class Reason:
    """A word of the report, as written, and its weight towards the suggested category."""

    word: str
    weight: float


@dataclass(frozen=True)
class Suggestion:
    """A suggested category code, the model's probability for it, and the words that decided.

    ``why`` holds at most ``WHY_WORDS`` words of the report with a positive weight, largest
    first; the weights of all the report's known words add up to the category's score.
    """

    category: str
    confidence: float
    why: tuple[Reason, ...]


class CategoryWords(NamedTuple):
    """What an operator wrote about a category that suggestions learn from: its code, its
    names and descriptions (``texts``) and its keyword terms (``keywords``). Operator
    settings, not case data: a model of them alone may be cached."""

    code: str
    texts: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


def seeded_by_description(category: CategoryWords,
                          keywords: Mapping[str, tuple[Sequence[str], Sequence[str]]] = KEYWORDS
                          ) -> bool:
    """Whether the model knows ``category`` only from its names and descriptions: no shipped
    keyword rule and no keyword of the operator's."""
    return not any(keywords.get(category.code, ((), ()))) and not category.keywords


def _term_share(seed_weight: int, tokens: int) -> int:
    """What each of a keyword term's ``tokens`` tokens counts: ``seed_weight`` shared evenly,
    rounded half up, at least 1 (15 over 2 tokens: 8 each; over 6: 3 each)."""
    return max(1, (2 * seed_weight + tokens) // (2 * tokens))


@lru_cache(maxsize=8192)
def _term_tokens(term: str) -> tuple[str, ...]:
    """The tokens of a keyword term, kept: tokenizing every rule takes about 20 ms, and a
    model trained on confirmed cases is built for each case page that suggests. Only keyword
    terms come here, never a report's text."""
    return tuple(tokenize(term))


def build_model(examples: Iterable[tuple[str, str]] = (), *,
                keywords: Mapping[str, tuple[Sequence[str], Sequence[str]]] = KEYWORDS,
                categories: Iterable[str] | None = None,
                seed_weight: int = SEED_WEIGHT, alpha: float = ALPHA,
                token_examples: Iterable[tuple[Mapping[str, int], str]] = (),
                descriptions: Mapping[str, Sequence[str]] | None = None,
                extra_keywords: Mapping[str, Sequence[str]] | None = None) -> Model:
    """A model seeded with the keyword rules and trained on (text, category code) pairs.

    ``token_examples`` are training documents given as (token counts, category code) instead
    of text, e.g. ``(Counter(tokenize(text)), code)`` computed earlier: they count exactly as
    the same texts in ``examples`` would (tokens of another tokenizer would simply never match
    a report's). Both may be given. Each keyword term adds ``seed_weight`` counts, shared
    among its tokens (module docstring). ``descriptions`` maps category codes to the texts
    that describe them (names, descriptions): for a category with no terms in ``keywords``,
    each telling word of these texts is a term weighing ``DESCRIPTION_WEIGHT`` (shared among
    its tokens); a category with keyword rules is seeded by its rules alone (they were
    written from its description). ``extra_keywords`` maps category codes to an operator's
    own keyword terms: each counts like a term of ``keywords`` (added to them), and a
    category that has some is no longer seeded from its descriptions.

    ``categories`` limits the model to those codes, in that order (e.g. the active ones); by
    default it has every category of ``keywords`` and then of the examples. Examples of a
    category outside that set are ignored. Nothing of the examples is kept but token counts,
    and the model is not written anywhere: train it in memory when needed.
    """
    wanted = None if categories is None else tuple(dict.fromkeys(categories))
    counts: dict[str, Counter[str]] = {code: Counter() for code in wanted or ()}
    extra = {code: tuple(terms) for code, terms in (extra_keywords or {}).items() if terms}
    for code, terms in [*((code, (*en, *zh)) for code, (en, zh) in keywords.items()),
                        *extra.items()]:
        if wanted is None or code in wanted:
            seed = counts.setdefault(code, Counter())
            for term in terms:
                tokens = _term_tokens(term)
                for token in tokens:
                    seed[token] += _term_share(seed_weight, len(tokens))
    for code, texts in (descriptions or {}).items():
        if (wanted is None or code in wanted) and seeded_by_description(
                CategoryWords(code, keywords=extra.get(code, ())), keywords):
            seed = counts.setdefault(code, Counter())
            for text in texts:
                for word in telling_words(text):  # each word a term, as in the rules
                    tokens = _term_tokens(word)
                    for token in tokens:
                        seed[token] += _term_share(DESCRIPTION_WEIGHT, len(tokens))
    for text, code in examples:
        if wanted is None or code in wanted:
            counts.setdefault(code, Counter()).update(tokenize(text))
    for token_counts, code in token_examples:
        if wanted is None or code in wanted:
            if any(not isinstance(n, int) or n < 0 for n in token_counts.values()):
                raise ValueError("token counts must be non-negative integers")
            counts.setdefault(code, Counter()).update(token_counts)
    return Model(counts, alpha)


def _sigmoid(x: float) -> float:
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def keyword_model() -> Model:
    """The model of the shipped keyword rules alone, for every default category (cached).

    It holds no case data, so it may be kept for the life of the process.
    """
    return build_model()


@lru_cache(maxsize=8)
def seed_model(categories: tuple[CategoryWords, ...]) -> Model:
    """The model of the keyword rules, the operator's keywords and the operator's
    descriptions of the categories without either, for ``categories`` in display order
    (cached).

    Like ``keyword_model`` it holds no case data: category names, descriptions and keywords
    are operator settings.
    """
    return build_model(categories=[c.code for c in categories],
                       descriptions={c.code: c.texts for c in categories},
                       extra_keywords={c.code: c.keywords for c in categories})


def suggest(text: str, model: Model, *, min_confidence: float = MIN_CONFIDENCE,
            min_words: int = MIN_WORDS, why_words: int = WHY_WORDS) -> Suggestion | None:
    """The likeliest category for ``text`` and the words that weighed most, or None.

    Each category's score is the sum of ``Model.weight`` over the text's known tokens (one
    term per occurrence); the best score wins, ties going to the category listed first. Its
    confidence is the one-against-the-rest posterior with equal priors over the K categories,
    1 / (1 + (K - 1) * exp(-score)): 0.5 when the words' evidence just balances the prior odds
    against any one category. Tokens the model never saw carry no evidence and are ignored.

    None when nothing weighs enough: no token of the text is known to the model, fewer than
    ``min_words`` distinct tokens weigh for the best category (one word, however telling,
    is too little to go on; "Please read this" must not become a suggestion because "read"
    is in a keyword phrase), or the confidence is below ``min_confidence``.
    """
    categories = model.categories
    known: Counter[str] = Counter()
    written: dict[str, str] = {}
    for token, word in words_as_written(text):
        if token in model.vocabulary:
            known[token] += 1
            written.setdefault(token, word)
    if not known or len(categories) < 2:
        return None
    weights = {c: {t: n * model.weight(t, c) for t, n in known.items()} for c in categories}
    scores = {c: sum(weights[c].values()) for c in categories}
    best = max(categories, key=lambda c: scores[c])
    confidence = _sigmoid(scores[best] - math.log(len(categories) - 1))
    by_word: dict[str, float] = {}  # a word and its character pair are one reason
    for token, weight in weights[best].items():
        by_word[written[token]] = by_word.get(written[token], 0.0) + weight
    reasons = sorted((Reason(word, w) for word, w in by_word.items() if w > 0),
                     key=lambda r: (-r.weight, r.word))
    if confidence < min_confidence or len(reasons) < min_words:
        return None
    return Suggestion(best, confidence, tuple(reasons[:why_words]))
