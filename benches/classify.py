"""Category suggestions (core.categories.suggestions): accuracy per language and time per report.

    python benches/classify.py                 # 5-fold cross-validation, 20 timing rounds
    python benches/classify.py --folds 10      # another number of folds
    python benches/classify.py --errors        # also print every held-out report it got wrong
    python benches/classify.py --curve         # also the learning curve (reports per category)
    python benches/classify.py --added         # also what an added category costs the defaults

The data: the labelled sample set written for the project, tests/core/categories/samples/
(en.jsonl and zh.jsonl: at least 40 short reports per default category and language, and
holdout-*.jsonl, written after the keyword rules were frozen).

What is measured, accuracy: stratified k-fold cross-validation over the main sets. Each report
is put in fold (its position among the reports of its category and language) mod k; for each
fold a model is built in memory from the shipped keyword rules plus the reports of the other
folds of both languages (as an organisation with staff writing in both would train it), and
suggests a category for each held-out report. Printed per language: the share of held-out
reports whose likeliest category is the labelled one ("top category": the accuracy the aim
is about), and with `suggest`'s default thresholds (confidence >= MIN_CONFIDENCE, MIN_WORDS
words weighing) the share that gets a suggestion, the share of those that are right, and the
share of all reports rightly suggested. The same for the keyword-only model on every report
(nothing trained on samples), and for the holdout sets, once with the keyword-only model and
once with a model trained on all of the main sets. The aim: >= 85 % cross-validated in both
languages.

Learning curve (--curve): the same folds, each model trained on the keyword rules plus only the
first n reports of each category and language of the other folds, for n = 0 (the rules alone),
5, 10, 20, 30, 40 and every one (48-51): what a handler's team can expect as it confirms cases. And
the holdout sets scored by models trained on the first n main reports of each category and
language, n up to every one (60-63).

Added categories (--added): each category of samples/added-categories.json (no keyword rules:
known by its names and descriptions) beside the defaults, rules alone, every report of the
four sets: how many get a right suggestion with the default thresholds, and how many are
suggested the added category (none of them is labelled with it).

Time: loading jieba (once per process, first call), building the keyword-only model and a
model trained on every main sample, and `suggest` for one report: every report of both sets
once per round, --rounds rounds, median and 95th percentile per report and per language. The
aim: < 50 ms per suggestion. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.categories.suggestions import (  # noqa: E402
    MIN_CONFIDENCE,
    MIN_WORDS,
    CategoryWords,
    Model,
    build_model,
    keyword_model,
    seed_model,
    suggest,
    tokenize,
)

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "core" / "categories" / "samples"
LANGUAGES = ("en", "zh")

Report = tuple[str, str]  # (text, category code)


def load(name: str) -> list[Report]:
    """The (text, category) pairs of one JSON-lines file of the sample set."""
    with (SAMPLES / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [(row["text"], row["category"]) for row in map(json.loads, lines) if row]


def fold_of(reports: list[Report], k: int) -> list[int]:
    """Each report's fold: its position among its category's reports, mod k."""
    seen: Counter[str] = Counter()
    folds = []
    for _text, category in reports:
        folds.append(seen[category] % k)
        seen[category] += 1
    return folds


@dataclass
class Tally:
    """Reports scored: how many, those whose likeliest category is right, and those given a
    suggestion with the default thresholds (MIN_CONFIDENCE, MIN_WORDS) and how many of these
    are right."""

    reports: int = 0
    top_right: int = 0
    suggested: int = 0
    suggested_right: int = 0

    def add(self, other: Tally) -> None:
        self.reports += other.reports
        self.top_right += other.top_right
        self.suggested += other.suggested
        self.suggested_right += other.suggested_right

    def line(self, label: str) -> str:
        n = self.reports
        right = self.suggested_right / max(1, self.suggested)
        top = f"{self.top_right / n:.1%} ({self.top_right}/{n})"
        return (f"  {label:<30} {top:<19} "
                f"suggested {self.suggested / n:4.0%}, right {right:6.1%} of those, "
                f"{self.suggested_right / n:6.1%} of all")


def score(model: Model, reports: list[Report], wrong: list[str] | None = None) -> Tally:
    """How the model does on ``reports``; appends those it gets wrong to ``wrong``."""
    tally = Tally(reports=len(reports))
    for text, category in reports:
        suggestion = suggest(text, model, min_confidence=0.0, min_words=0)
        right = suggestion is not None and suggestion.category == category
        tally.top_right += right
        if suggest(text, model) is not None:
            tally.suggested += 1
            tally.suggested_right += right
        if not right and wrong is not None:
            got = f"{suggestion.category} {suggestion.confidence:.2f}" if suggestion else "-"
            why = ", ".join(r.word for r in suggestion.why) if suggestion else ""
            wrong.append(f"  {category:>13} -> {got:<18} {text[:70]}  [{why}]")
    return tally


HEADER = (f"  {'':<30} {'top category':<19} with the default thresholds (confidence >= "
          f"{MIN_CONFIDENCE}, {MIN_WORDS} words)")


def cross_validate(sets: dict[str, list[Report]], k: int, errors: bool) -> None:
    folds = {lang: fold_of(reports, k) for lang, reports in sets.items()}
    totals = {lang: Tally() for lang in sets}
    wrong: list[str] = []
    for held_out in range(k):
        training = [report for lang, reports in sets.items()
                    for report, fold in zip(reports, folds[lang], strict=True)
                    if fold != held_out]
        model = build_model(training)
        for lang, reports in sets.items():
            test = [r for r, fold in zip(reports, folds[lang], strict=True) if fold == held_out]
            totals[lang].add(score(model, test, wrong if errors else None))
    print(f"\n{k}-fold cross-validation (keyword rules + the other folds of both languages):")
    print(HEADER)
    for lang, tally in totals.items():
        print(tally.line(lang))
    if errors:
        print("\nheld-out reports suggested wrongly (labelled -> suggested, why):")
        print("\n".join(sorted(wrong)))


def first_of_each(reports: list[Report], size: int) -> list[Report]:
    """The first ``size`` reports of each category, in file order."""
    taken: Counter[str] = Counter()
    first = []
    for report in reports:
        if taken[report[1]] < size:
            taken[report[1]] += 1
            first.append(report)
    return first


def learning_curve(sets: dict[str, list[Report]], holdouts: dict[str, list[Report]], k: int,
                   sizes: tuple[int, ...] = (0, 5, 10, 20, 30, 40, 1000)) -> None:
    """Accuracy with at most n training reports per category and language: cross-validated
    on the main sets, and on the holdout sets trained on the main sets."""
    folds = {lang: fold_of(reports, k) for lang, reports in sets.items()}
    print(f"\nlearning curve, {k}-fold cross-validation, likeliest category right "
          f"(keyword rules + at most n reports per category and language of the other folds):")
    print(f"  {'n':>5} " + " ".join(f"{lang:>18}" for lang in sets))
    for size in sizes:
        totals = {lang: Tally() for lang in sets}
        for held_out in range(k):
            training = [report for lang, reports in sets.items() for report in first_of_each(
                [r for r, f in zip(reports, folds[lang], strict=True) if f != held_out], size)]
            model = build_model(training)
            for lang, reports in sets.items():
                test = [r for r, f in zip(reports, folds[lang], strict=True) if f == held_out]
                totals[lang].add(score(model, test))
        label = "all" if size >= 1000 else str(size)
        print(f"  {label:>5} " + " ".join(
            f"{t.top_right / t.reports:7.1%} ({t.top_right:3}/{t.reports})"
            for t in totals.values()))
    if not holdouts:
        return
    print("\nlearning curve, holdout sets, likeliest category right (keyword rules + the first n "
          "main reports of each category and language):")
    print(f"  {'n':>5} " + " ".join(f"{lang:>18}" for lang in holdouts))
    for size in sizes:
        model = build_model([r for reports in sets.values() for r in first_of_each(reports, size)])
        tallies = [score(model, reports) for reports in holdouts.values()]
        label = "all" if size >= 1000 else str(size)
        print(f"  {label:>5} " + " ".join(
            f"{t.top_right / t.reports:7.1%} ({t.top_right:3}/{t.reports})" for t in tallies))


def added_categories(reports: list[Report]) -> None:
    """Right suggestions of the rules alone with each example added category beside the
    defaults, and how many reports it draws."""
    from core.categories.lookup import DEFAULT_CATEGORIES

    with (SAMPLES / "added-categories.json").open(encoding="utf-8") as file:
        added = {code: tuple(texts) for code, texts in json.load(file).items()
                 if not code.startswith("_")}
    described = {code: (en, zh, d_en, d_zh) for code, en, zh, d_en, d_zh in DEFAULT_CATEGORIES}

    def tally(model: Model, code: str | None) -> tuple[int, int]:
        right = drawn = 0
        for text, category in reports:
            suggestion = suggest(text, model)
            right += suggestion is not None and suggestion.category == category
            drawn += suggestion is not None and suggestion.category == code
        return right, drawn

    alone, _ = tally(seed_model(tuple(CategoryWords(*item) for item in described.items())), None)
    print(f"\nadded categories, rules alone, {len(reports)} reports of the four sets, right "
          f"suggestions with the default thresholds (defaults alone: {alone}):")
    for code, texts in added.items():
        right, drawn = tally(seed_model(tuple(
            CategoryWords(*item) for item in {**described, code: texts}.items())), code)
        print(f"  {code:<12} right {right} ({right - alone:+d}), suggested {code}: {drawn}")


def timings(sets: dict[str, list[Report]], rounds: int) -> None:
    started = time.perf_counter()
    tokenize("加载词典")
    print(f"\nloading jieba (first Chinese text in the process): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    keyword_model.cache_clear()
    keyword_model()
    print(f"building the keyword-only model: {(time.perf_counter() - started) * 1000:.0f} ms")
    everything = [report for reports in sets.values() for report in reports]
    started = time.perf_counter()
    model = build_model(everything)
    print(f"building a model from the keyword rules and {len(everything)} reports: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms "
          f"({len(model.vocabulary)} tokens in its vocabulary)")
    seconds: dict[str, list[float]] = {lang: [] for lang in sets}
    for _ in range(rounds):
        for lang, reports in sets.items():
            for text, _category in reports:
                started = time.perf_counter()
                suggest(text, model)
                seconds[lang].append(time.perf_counter() - started)
    print(f"\nsuggest, one report ({rounds} rounds over every report):")
    for lang, values in [*seconds.items(), ("both", [s for v in seconds.values() for s in v])]:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        print(f"  {lang:<5} median {statistics.median(ordered) * 1000:6.2f} ms   "
              f"p95 {p95 * 1000:6.2f} ms   (aim: < 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds")
    parser.add_argument("--errors", action="store_true",
                        help="print the held-out reports suggested wrongly")
    parser.add_argument("--added", action="store_true",
                        help="print what example added categories cost the defaults")
    parser.add_argument("--curve", action="store_true",
                        help="print accuracy against the number of reports trained on")
    args = parser.parse_args()
    sets = {lang: load(lang) for lang in LANGUAGES}
    holdouts = {lang: load(f"holdout-{lang}") for lang in LANGUAGES
                if (SAMPLES / f"holdout-{lang}.jsonl").exists()}
    sizes = ", ".join(f"{lang} {len(reports)}" for lang, reports in sets.items())
    print(f"classify bench: samples {sizes}; categories "
          f"{len({c for reports in sets.values() for _t, c in reports})}")
    timings(sets, args.rounds)
    cross_validate(sets, args.folds, args.errors)
    if args.curve:
        learning_curve(sets, holdouts, args.folds)
    if args.added:
        added_categories([r for group in (sets, holdouts) for rs in group.values() for r in rs])
    print("\nkeyword rules only (no sample trained on), every report:")
    print(HEADER)
    for lang, reports in sets.items():
        print(score(keyword_model(), reports).line(lang))
    if holdouts:
        trained = build_model([r for reports in sets.values() for r in reports])
        print("\nholdout sets (written after the keyword rules were frozen):")
        print(HEADER)
        for lang, reports in holdouts.items():
            print(score(keyword_model(), reports).line(f"{lang}, keyword rules only"))
            print(score(trained, reports).line(f"{lang}, trained on the main sets"))


if __name__ == "__main__":
    main()
