"""Report categories: the defaults from the seed's scope, and reading them.

Operators add, edit, reorder and deactivate categories with core.categories.admin; intake
routing is core.categories.intake_routes.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Category

#: A category's code: it names the category for good (cases and filters refer to it).
CODE_PATTERN = re.compile(r"[a-z0-9_]{1,32}")

#: (code, English, Chinese, English description, Chinese description), docs/GLOSSARY.md.
DEFAULT_CATEGORIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("it_fault", "IT systems and technical faults", "技术故障与信息系统问题",
     "Systems that fail, logins that do not work, tools that get in the way of your job.",
     "系统故障、无法登录、工具妨碍工作等问题。"),
    ("security", "Security vulnerabilities and data protection", "安全漏洞与数据保护",
     "Weaknesses in systems, data handled carelessly, access that should not exist.",
     "系统漏洞、数据处理不当、不应存在的访问权限。"),
    ("environment", "Working environment and safety", "工作环境与安全隐患",
     "Workplace conditions, workload, health and safety hazards.",
     "工作条件、工作量、健康与安全隐患。"),
    ("communication", "Communication and management", "沟通与管理问题",
     "Information that does not reach people, decisions nobody explains.",
     "信息传达不到位、决策缺乏解释等。"),
    ("roles", "Unclear roles and responsibilities", "岗位职责不清",
     "Nobody owns a task, or several people think they do.",
     "任务无人负责，或多人职责重叠。"),
    ("misconduct", "Misconduct and compliance", "违规违纪与合规问题",
     "Breaches of rules or policies you have seen.",
     "您所见到的违反规章制度或政策的行为。"),
    ("suggestion", "Suggestions for improvement", "改进建议",
     "An idea that would make work better.", "能让工作更好的想法。"),
    ("other", "Something else", "其他", "Anything that fits no other category.",
     "不属于以上类别的其他问题。"),
)


def seed_default_categories(session: Session) -> int:
    """Add the default categories that do not exist yet; return how many were added."""
    existing = set(session.execute(select(Category.code)).scalars())
    added = 0
    for position, (code, en, zh, desc_en, desc_zh) in enumerate(DEFAULT_CATEGORIES):
        if code in existing:
            continue
        session.add(Category(code=code, name_en=en, name_zh=zh, description_en=desc_en,
                             description_zh=desc_zh, position=position, active=True))
        added += 1
    session.flush()
    return added


def active_categories(session: Session) -> list[Category]:
    """Categories offered on the submission form, in display order."""
    return list(session.execute(
        select(Category).where(Category.active.is_(True))
        .order_by(Category.position, Category.id)
    ).scalars())


def list_categories(session: Session) -> list[Category]:
    """Every category, active or not, in display order (core.categories.admin)."""
    return list(session.execute(
        select(Category).order_by(Category.position, Category.id)
    ).scalars())


def get_category(session: Session, code: str) -> Category:
    """The category with that code, or NotFound."""
    category = session.execute(
        select(Category).where(Category.code == code)
    ).scalar_one_or_none() if CODE_PATTERN.fullmatch(code) else None
    if category is None:
        raise NotFound(f"no category {code!r}")
    return category


#: What separates an operator's keyword terms when they are written: commas (also the Chinese
#: full-width comma and enumeration comma) and semicolons.
KEYWORD_SEPARATORS = (",", "，", "、", ";", "；")
_KEYWORD_SPLIT = re.compile("[" + "".join(KEYWORD_SEPARATORS) + "]")


def split_keywords(text: str) -> tuple[str, ...]:
    """The keyword terms written in `text`, in order: split at the separators, surrounding
    spaces removed, empty terms and repeats left out (ignoring case and full-width forms:
    "VPN" and "ＶＰＮ" are one term, as the suggestions read them)."""
    terms: dict[str, str] = {}
    for term in _KEYWORD_SPLIT.split(text):
        term = " ".join(term.split())
        if term:
            terms.setdefault(unicodedata.normalize("NFKC", term).casefold(), term)
    return tuple(terms.values())


def join_keywords(terms: tuple[str, ...]) -> str:
    """Keyword terms as stored and shown: "term, term, ..."."""
    return ", ".join(terms)


def category_keywords(category: Category) -> tuple[str, ...]:
    """The operator's own keyword terms for a category's suggestions (none: ())."""
    return split_keywords(category.keywords or "")
