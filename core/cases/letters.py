"""Templates of the messages a case handler sends the reporter at each step, in both
languages. The console fills a form with the template in the reporter's language (from their
decrypted report); the handler edits it before sending. Nothing here is sent unedited
without the handler seeing it.

Written in the organisation's voice; the Chinese follows docs/GLOSSARY.md (您, 调查小组,
处理结果及依据).
"""

from __future__ import annotations

import re
from enum import StrEnum

from core.errors import LetterNotReady


class Letter(StrEnum):
    """The steps that come with a template."""

    ACKNOWLEDGEMENT = "acknowledgement"
    ACCEPTED = "accepted"
    REFERRAL = "referral"
    NOT_ADMISSIBLE = "not_admissible"
    OUTCOME = "outcome"
    THANKS = "thanks"
    REVIEW_ANSWER = "review_answer"


_TEXTS: dict[Letter, dict[str, str]] = {
    Letter.ACKNOWLEDGEMENT: {
        "en": "Thank you for your report. We have received it and a case handler is now "
              "reviewing it. We will tell you here how it will be handled. You can add "
              "information at any time with your receipt code.",
        "zh": "感谢您的反映。我们已收到您反映的问题，处理人员正在审阅。我们会在这里告知您处理方式。"
              "您可以随时凭回执码补充信息。",
    },
    Letter.ACCEPTED: {
        "en": "Your report has been accepted. An investigation team will look into it. We "
              "will tell you the outcome and its grounds here.",
        "zh": "您反映的问题已受理，调查小组将进行调查核实。我们会在这里告知您处理结果及依据。",
    },
    Letter.REFERRAL: {
        "en": "Your report concerns a matter handled through another channel: [where]. "
              "Reason: [why]. Please contact them directly; this case will be closed here.",
        "zh": "您反映的问题属于其他渠道处理的范围：[渠道]。原因：[原因]。"
              "请直接与其联系；本案件将在此归档。",
    },
    Letter.NOT_ADMISSIBLE: {
        "en": "We cannot handle your report here, for the following reason: [why]. Thank "
              "you for speaking up.",
        "zh": "很抱歉，您反映的问题无法在此受理，原因如下：[原因]。感谢您的反映。",
    },
    Letter.OUTCOME: {
        "en": "The investigation of your report is complete. Outcome: [what was found and "
              "what will be done].",
        "zh": "您反映的问题已调查完毕。处理结果：[查明的情况及将采取的措施]。",
    },
    Letter.THANKS: {
        "en": "Thank you again for raising this. Reports like yours help us improve.",
        "zh": "再次感谢您的反映。您的意见帮助我们不断改进。",
    },
    Letter.REVIEW_ANSWER: {
        "en": "Thank you for telling us you are not satisfied. We have looked at the case "
              "again: [answer].",
        "zh": "感谢您告诉我们您不满意。我们已重新审视本案件：[答复]。",
    },
}

#: The heading above the grounds in an outcome message.
GROUNDS_HEADING = {"en": "Grounds for the decision:", "zh": "处理依据："}


def language_of(report_language: str) -> str | None:
    """"en" or "zh" for a report's language tag; None when unknown (reports from before the
    language was recorded)."""
    tag = report_language.lower()
    if tag.startswith("zh"):
        return "zh"
    if tag.startswith("en"):
        return "en"
    return None


def letter(name: Letter, report_language: str) -> str:
    """The template in the reporter's language, or in both when it is unknown."""
    language = language_of(report_language)
    texts = _TEXTS[name]
    return texts[language] if language else f"{texts['zh']}\n\n{texts['en']}"


def grounds_heading(report_language: str) -> str:
    """The grounds heading in the reporter's language (both when unknown)."""
    language = language_of(report_language)
    return GROUNDS_HEADING[language] if language else (
        f"{GROUNDS_HEADING['zh']} / {GROUNDS_HEADING['en']}")


#: The blanks the templates leave for the handler to fill: "[why]", "[原因]" ...
BLANKS: tuple[str, ...] = tuple(sorted({
    blank for texts in _TEXTS.values() for text in texts.values()
    for blank in re.findall(r"\[[^\[\]]+\]", text)}))


def _bare(text: str) -> str:
    """The text without any whitespace: a template rewrapped or re-indented is unchanged."""
    return "".join(text.split())


def unchanged_template(text: str, name: Letter) -> str | None:
    """The report language ("en", "zh", or "" for both) whose template `name` the text is,
    unchanged but for whitespace; None when it is not that template."""
    posted = _bare(text)
    for language in ("en", "zh", ""):
        if posted == _bare(letter(name, language)):
            return language
    return None


def check_letter(text: str, *, field: str, refusal: bool = False) -> None:
    """Refuse a message to the reporter that is a template not made ready (LetterNotReady):
    a blank such as "[why]" left in it, or, for a report referred or not admitted
    (`refusal`), the acceptance letter. A reporter must never read either."""
    left = tuple(blank for blank in BLANKS if blank in text)
    if left:
        raise LetterNotReady("fill in the template's blanks before sending: " + ", ".join(left),
                             field=field, blanks=left)
    if refusal and unchanged_template(text, Letter.ACCEPTED) is not None:
        raise LetterNotReady("this is the letter for an accepted report, not for this "
                             "decision", field=field)
