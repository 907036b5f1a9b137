"""Tokens of a report's text for the category suggestions (core.categories.suggestions).

Runs of Chinese characters are segmented by jieba's dictionary (deterministic: the same text
always gives the same words), a long word adding the common words inside it (安全更新: 安全,
更新); runs of Latin letters and digits are lower-cased words, lightly stemmed (plural, -ed,
-ing). Stop words of both languages, words that say nothing about a category, are dropped.
Each pair of neighbouring words is a token too ("nobody owns", "没人 负责"), so the phrases of
the keyword rules count as phrases, and so is each pair of neighbouring Chinese characters
(what segmentation splits differently from the rules still matches).

jieba is imported and loaded lazily, once per process, with its dictionary cache written into
a private temporary directory that is removed straight away. Changing what ``tokenize``
returns changes what stored token counts mean: see core.cases.category_examples.TOKENS_VERSION.
"""

from __future__ import annotations

import itertools
import logging
import re
import tempfile
import threading
import unicodedata
from typing import Any

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


def words_as_written(text: str) -> list[tuple[str, str]]:
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


#: A Chinese word jieba's dictionary counts this often is too common to tell categories apart
#: (问题 55,563, 工作 66,367, 任何 14,635; 采购 1,843, 招标 430).
_COMMON_WORD_FREQUENCY = 10_000


def telling_words(text: str) -> list[str]:
    """The words of ``text`` as written, one per occurrence, without the pairs and without
    Chinese words too common to tell categories apart: what an operator's description of a
    category contributes to its suggestions (core.categories.suggestions)."""
    words = []
    for token, written in words_as_written(text):
        if token.startswith(_PAIR) or " " in token:
            continue
        if _CJK_WORD.fullmatch(written) and (
                _jieba().FREQ.get(written, 0) >= _COMMON_WORD_FREQUENCY):
            continue
        words.append(written)
    return words


_CJK_WORD = re.compile(f"[{_CJK}]+")


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
    return [token for token, _ in words_as_written(text)]
