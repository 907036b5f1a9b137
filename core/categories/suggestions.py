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
   (core.categories.suggestion_words), plus any (text, confirmed category) pairs the caller
   passes in (or their token counts). Each keyword term weighs ``seed_weight`` counts in all,
   shared evenly among its tokens (rounded, at least one each): "vpn" is one token counted 15
   times, 无法登录 six tokens (无法, 登录, the pair, three character pairs) counted 3 times
   each. A term is one piece of evidence however many tokens it makes, the way Rennie et al.
   (2003) normalise documents by length; before, each token of a term was counted 6 times,
   so a Chinese term (3.3 tokens on average) weighed twice an English one (1.6).
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
imported and loaded lazily, once per process, with its dictionary cache written into a
private temporary directory that is removed straight away.

Accuracy and speed on the labelled sample set: benches/classify.py and benches/README.md.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from core.categories.suggestion_words import KEYWORDS

#: How many counts each term of a category's keyword rules adds to its pseudo-document, shared
#: evenly among the term's tokens (about the total the rules had when each token of a term was
#: counted 6 times: a term makes 2.4 tokens on average).
SEED_WEIGHT = 15
#: The smoothing constant: add-alpha to every count (alpha = 1 is Laplace's rule).
ALPHA = 0.5
#: Below this confidence (one-against-the-rest posterior) ``suggest`` returns None.
MIN_CONFIDENCE = 0.5
#: How many distinct tokens must weigh for the best category before ``suggest`` names it.
MIN_WORDS = 2
#: How many words ``suggest`` names as the reason.
WHY_WORDS = 5

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(f"([{_CJK}]+)|([a-z0-9]+)")

# Words that say nothing about a category: function words, numbers, vague quantities, times
# and the commonest verbs. Modal verbs and "who", "why", "how", "no", "not" are kept: "who is
# responsible", "nobody explained why", "how about", "we could" are signals.
_ENGLISH_STOP = """
a about after again all also am an and any are as at be been before being but by can did do
does doing don for from had has have having he her here him his i if in into is it its itself
just let me more most my of off on once only or our ours out over own same she so some such
than that the their them then there these they this those through to too under until up very
was we were what when where which while whom will with you your yours ll ve re didn doesn isn
wasn weren hasn haven hadn couldn wouldn won shouldn one two three four five six seven eight
nine ten twice first second half people person someone everyone anyone everybody anybody
everything anything something thing things now ever even since always every several many much
lot way whole day days week weeks month months year years time times last next new old get
gets got make makes made take takes took taken go goes went gone come comes came keep keeps
kept put want wants say said us really like back please thank thanks hello hi dear regards
"""
_ENGLISH_STOP_WORDS = frozenset(_ENGLISH_STOP.split())

_CHINESE_STOP = """
的 了 是 在 我 我们 你 你们 您 他 她 它 他们 她们 这 那 这个 那个 这些 那些 这样 那样 有 也 就
都 和 与 及 以及 或 或者 把 被 让 给 对 从 到 向 于 还 又 很 太 非常 一个 一些 一下 什么 怎么
因为 所以 但是 但 而且 并且 如果 虽然 就是 还是 已经 之后 之前 时候 的话 吗 呢 啊 呀 着 过 地
得 等 个 上 下 中 里 后 前 说 要 会 能 去 来 做 其 之 而 并 为 以 则 才 可 两个 三个 四个 一天
每天 今天 昨天 明天 现在 一直 总是 经常 老是 大家 有人 人 事 事情 东西 时间 好 多 很多 一次 自己
所有 每个 别人 其他 一样 这次 那次 一半 好几 几个 好几个 时 年 月 天 次 用 没 不 还有 只能 只
再 出来 起来 下来 想 请 谢谢 你好 您好 情况 一下子
"""
_CHINESE_STOP_WORDS = frozenset(_CHINESE_STOP.split())

_JIEBA_LOCK = threading.Lock()
_JIEBA: list[Any] = []


def _jieba() -> Any:
    """jieba's tokenizer, imported and loaded on first use (about two seconds), once.

    jieba writes a cache of the dictionary it built; here it goes into a private temporary
    directory (mode 0700) that is deleted as soon as the dictionary is loaded, so nothing is
    left behind and no shared cache file (e.g. /tmp/jieba.cache) is ever read. jieba's global
    tokenizer is not touched.
    """
    if not _JIEBA:
        with _JIEBA_LOCK:
            if not _JIEBA:
                import jieba  # type: ignore[import-untyped]

                logging.getLogger("jieba").setLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                with tempfile.TemporaryDirectory(prefix="candor-jieba-") as scratch:
                    tokenizer.tmp_dir = scratch
                    tokenizer.initialize()
                _JIEBA.append(tokenizer)
    return _JIEBA[0]


def _stem(word: str) -> str:
    """A light English stemmer: plurals, -ed and -ing, a final e.

    companies -> company, logins -> login, stopped -> stop, closing and closed and close ->
    clos. Crude but deterministic; the report's own spelling is what ``suggest`` shows.
    """
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[:-len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _chinese_words(run: str) -> list[tuple[str, bool]]:
    """jieba's words for a run of Chinese characters, and the common words inside long ones.

    Each item is (word, True if it is a part of a longer word). Like jieba's search mode, a
    word of three or more characters also yields the two- and three-character words inside
    it, but only those the dictionary counts at least ``_MIN_PART_FREQUENCY`` times: 安全更新
    gives 安全 and 更新, 服务器 gives 服务 but not 务器.
    """
    tokenizer = _jieba()
    words: list[tuple[str, bool]] = []
    for word in tokenizer.cut(run):
        if word in _CHINESE_STOP_WORDS:
            continue
        words.append((word, False))
        for size in (2, 3):
            if len(word) > size:
                words.extend((part, True) for i in range(len(word) - size + 1)
                             if tokenizer.FREQ.get(part := word[i:i + size], 0)
                             >= _MIN_PART_FREQUENCY and part not in _CHINESE_STOP_WORDS)
    return words


_MIN_PART_FREQUENCY = 100


#: Marks a token made of two neighbouring Chinese characters (never part of another token).
_PAIR = "~"


def _character_pairs(run: str) -> list[tuple[str, str]]:
    """(token, as written) for each two neighbouring characters of a Chinese run.

    They catch what segmentation splits differently from the keyword rules (发票报销 against
    报销发票, names jieba does not know). On the sample set they lift Chinese cross-validated
    accuracy by about four points (benches/classify.py).
    """
    return [(_PAIR + run[i:i + 2], run[i:i + 2]) for i in range(len(run) - 1)]


def _words(text: str) -> list[tuple[str, str]]:
    """(token, as written) for each word of ``text``, each pair of neighbouring words and
    each pair of neighbouring Chinese characters."""
    words: list[tuple[str, str]] = []
    previous: tuple[str, str] | None = None
    for chinese, latin in _RUNS.findall(unicodedata.normalize("NFKC", text).casefold()):
        if chinese:
            previous = None
            parts = _chinese_words(chinese)
            main = [w for w, is_part in parts if not is_part]
            words.extend((w, w) for w, _ in parts)
            words.extend((f"{a} {b}", f"{a} {b}") for a, b in itertools.pairwise(main))
            words.extend(_character_pairs(chinese))
        elif len(latin) > 1 and latin not in _ENGLISH_STOP_WORDS:
            word = (_stem(latin), latin)
            words.append(word)
            if previous is not None:
                words.append((f"{previous[0]} {word[0]}", f"{previous[1]} {word[1]}"))
            previous = word
    return words


def tokenize(text: str) -> list[str]:
    """The tokens of a text: jieba's words for Chinese, stems for English, neighbouring pairs.

    The text is NFKC-normalised (full-width letters and digits become ASCII) and case-folded,
    then split into runs of Chinese characters and runs of Latin letters and digits; anything
    else separates words. Chinese runs are segmented by jieba (dictionary and HMM, so the
    same text always gives the same words), long words adding their common parts; Latin words
    of two or more characters are stemmed. Stop words of both languages are dropped. Then
    each pair of neighbouring words within a Chinese run, or of consecutive English words,
    is a token "a b" as well, and each two neighbouring characters of a Chinese run a token
    "~ab". Deterministic: no randomness, no state but jieba's dictionary.
    """
    return [token for token, _ in _words(text)]


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
                token_examples: Iterable[tuple[Mapping[str, int], str]] = ()) -> Model:
    """A model seeded with the keyword rules and trained on (text, category code) pairs.

    ``token_examples`` are training documents given as (token counts, category code) instead
    of text, e.g. ``(Counter(tokenize(text)), code)`` computed earlier: they count exactly as
    the same texts in ``examples`` would (tokens of another tokenizer would simply never match
    a report's). Both may be given. Each keyword term adds ``seed_weight`` counts, shared
    among its tokens (module docstring).

    ``categories`` limits the model to those codes, in that order (e.g. the active ones); by
    default it has every category of ``keywords`` and then of the examples. Examples of a
    category outside that set are ignored. Nothing of the examples is kept but token counts,
    and the model is not written anywhere: train it in memory when needed.
    """
    wanted = None if categories is None else tuple(dict.fromkeys(categories))
    counts: dict[str, Counter[str]] = {code: Counter() for code in wanted or ()}
    for code, (english, chinese) in keywords.items():
        if wanted is None or code in wanted:
            seed = counts.setdefault(code, Counter())
            for term in (*english, *chinese):
                tokens = _term_tokens(term)
                for token in tokens:
                    seed[token] += _term_share(seed_weight, len(tokens))
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
    for token, word in _words(text):
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
