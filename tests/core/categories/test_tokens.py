"""core.categories.tokens: English words stemmed, Chinese segmented by jieba, stop words out,
neighbouring pairs in; deterministic; jieba leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.categories.tokens import tokenize

ROOT = Path(__file__).resolve().parents[3]


def test_english_is_lower_cased_stemmed_without_stop_words() -> None:
    tokens = tokenize("The PRINTERS on floor 3 don't work; our Passwords were LEAKED!")
    assert {"printer", "floor", "work", "password", "leak"} <= set(tokens)
    assert not {"the", "on", "our", "were", "don", "t", "3"} & set(tokens)
    assert "password leak" in tokens  # neighbouring words make a pair
    assert tokenize("logins") == tokenize("login") == ["login"]
    assert tokenize("stopped") == tokenize("stop")


def test_chinese_is_segmented_by_jieba_without_stop_words() -> None:
    tokens = tokenize("服务器宕机了，大家都无法登录系统。")
    assert {"服务器", "宕机", "无法", "登录", "系统"} <= set(tokens)
    assert "服务" in tokens  # a common word inside a longer one counts too
    assert not {"了", "都", "，", "。", "大家"} & set(tokens)
    assert "宕机 无法" not in tokens  # no pair across the comma
    assert "无法 登录" in tokens


def test_mixed_and_full_width_text() -> None:
    assert tokenize("ＶＰＮ连不上") == tokenize("vpn连不上")
    assert {"vpn", "连不上"} <= set(tokenize("VPN连不上，SAP也打不开"))


def test_tokenisation_is_deterministic() -> None:
    text = "采购经理收受供应商回扣，还让我们修改测试报告。The supplier paid kickbacks."
    assert tokenize(text) == tokenize(text)
    assert tokenize("") == [] and tokenize(" \n\t!?。") == []


def test_jieba_leaves_no_cache_behind(tmp_path: Path) -> None:
    """First use in a fresh process: jieba's dictionary cache goes into a private temporary
    directory that is removed at once; nothing is left in TMPDIR or the working directory."""
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    cwd.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from core.categories.tokens import tokenize; "
            "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules; "
            "assert tokenize('服务器宕机') == tokenize('服务器宕机')")
    subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, check=True, timeout=120)
    assert list(scratch.iterdir()) == []
    assert list(cwd.iterdir()) == []
