"""Interactive prompts for `stackgen init` (questionary). Each Question validates its
answer at the prompt with the same parser the non-interactive path uses."""

from __future__ import annotations

from typing import Any

import questionary

from stackgen.cli.answers import MODEL_PASSTHROUGH, POOL_PASSTHROUGH
from stackgen.cli.questions import MODEL_QUESTIONS, REQUIRED, STACK_QUESTIONS, Question
from stackgen.errors import StackgenError


class Aborted(StackgenError):
    exit_code = 130

    def render(self) -> str:
        return "init cancelled; nothing was written"


def ask(question: Question, current: Any, taken: frozenset[str] = frozenset()) -> Any:
    default = current if current not in (None, "") else (
        None if question.default is REQUIRED else question.default)
    label = question.prompt + (f" ({question.help})" if question.help else "")
    if question.kind == "bool":
        prompt = questionary.confirm(label, default=bool(question.parse(default)) if default is not None else False)
    elif question.kind == "select":
        prompt = questionary.select(label, choices=list(question.choices),
                                    default=str(default) if default in question.choices else None)
    else:
        prompt = questionary.text(label, default="" if default is None else str(default),
                                  validate=lambda text: _valid(question, text, taken))
    answer = prompt.unsafe_ask()
    return question.parse(answer)


def _valid(question: Question, text: str, taken: frozenset[str] = frozenset()) -> bool | str:
    try:
        question.parse(text)
    except ValueError as err:
        return f"expected {err}"
    if question.key == "name" and text.strip() in taken:
        return f"{text.strip()!r} is taken by an earlier one: choose another name"
    return True


def ask_group(questions: tuple[Question, ...], given: dict, top: dict,
              passthrough: tuple[str, ...], taken: frozenset[str] = frozenset()) -> dict:
    out: dict = {}
    for question in questions:
        if question.when(out, top):
            out[question.key] = ask(question, given.get(question.key), taken)
    out.update({k: given[k] for k in passthrough if k in given})
    return out


def ask_list(noun: str, questions: tuple[Question, ...], given: list[dict], top: dict,
             passthrough: tuple[str, ...], minimum: int) -> list[dict]:
    items: list[dict] = []
    index = 0
    while True:
        more = index < len(given) or index < minimum
        if not more:
            more = questionary.confirm(f"Add {'another' if items else 'a'} {noun}?",
                                       default=False).unsafe_ask()
        if not more:
            return items
        questionary.print(f"{noun} #{index + 1}", style="bold")
        taken = frozenset(str(item.get("name")) for item in items)  # names must be unique
        items.append(ask_group(questions, given[index] if index < len(given) else {}, top,
                               passthrough, taken))
        index += 1


def ask_all(merged: dict, pool_qs: tuple[Question, ...]) -> dict:
    try:
        top = ask_group(STACK_QUESTIONS, merged, {}, ())
        top["nodePools"] = ask_list("GPU/CPU node pool", pool_qs, merged.get("nodePools") or [],
                                    top, POOL_PASSTHROUGH, 0)
        top["models"] = ask_list("model", MODEL_QUESTIONS, merged.get("models") or [], top,
                                 MODEL_PASSTHROUGH, 1)
    except (KeyboardInterrupt, EOFError):
        raise Aborted("cancelled") from None
    return top
