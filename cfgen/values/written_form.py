"""The form a model writes programs in, and back: typed placeholders for the request's values (a slots model),
Bash templates (a templates model, languages/bash_template.py), or the program as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from cfgen.languages import get_language
from cfgen.languages.bash_quoting import substitute
from cfgen.languages.bash_template import respaced, template
from cfgen.values.slots import abstract_values, fill_placeholders, request_edits
from cfgen.training.tldr import PLACEHOLDER


@dataclass(frozen=True)
class WrittenForm:
    """How a model writes programs: the request's values as typed placeholders (`slots`), and Bash as templates
    (bash_template.py) whose arguments outside `template_literals` are slots (`templates`)."""

    slots: bool = False
    templates: bool = False
    template_literals: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config) -> "WrittenForm":
        """A model's form, from its ModelConfig."""
        return cls(config.slots, config.templates, frozenset(config.template_literals))


def written_form(code: str, request: str | None, lang: str, form: WrittenForm) -> str:
    """`code` as a model writes it: a Bash template for a templates model (a program without one as it is);
    with the request's values as placeholders for a slots model in a language whose programs carry values
    (abstract_values); as is otherwise (CF rules, code without a request)."""
    if form.templates and lang == "bash":
        made = template(code, form.template_literals)
        return made.text if made is not None else code
    if not form.slots or request is None or not get_language(lang).value_slots:
        return code
    return abstract_values(code, request)


def program_from(written: str, request: str, lang: str, form: WrittenForm, defaults: Sequence[str] = ()) -> str:
    """What a model wrote, as a program, its placeholders filled with the values `request` names
    (fill_placeholders). A Bash template is spaced as Bash first, and a slot the request names no value for takes
    the value of the first of `defaults` (the nearest training programs) that has the same template; a slot
    neither fills stays a visible placeholder."""
    if form.templates and lang == "bash":
        return _filled_template(written, request, form.template_literals, defaults)
    if "{{" not in written or not get_language(lang).value_slots:
        return written
    return fill_placeholders(_placeholders_apart(written) if lang == "bash" else written, request, lang)


def _placeholders_apart(written: str) -> str:
    """A slots model's Bash with each placeholder its own word, as it was in every program it learnt from: the
    decoder may glue one to the flag before it or to the next (`wc -l{{path}}{{path}}` is `wc -l {{path}}
    {{path}}`), and a value filled into such a glued word would be garbled (`-ltodo.md`) or refused."""
    apart = re.sub(r"(?<=\}\})(?=\{\{)", " ", written)
    return re.sub(r"(?<=\s)(-[A-Za-z]+)(?=\{\{)", r"\1 ", " " + apart)[1:]


def _filled_template(written: str, request: str, literals: frozenset[str], defaults: Sequence[str]) -> str:
    code = respaced(written)
    if "{{" not in code:
        return code
    edits = request_edits(code, request)
    filled, refused = substitute(code, edits)
    slots = list(PLACEHOLDER.finditer(code))
    given = {edit.start for edit in edits} - {edit.start for edit in refused}
    open_slots = [i for i, slot in enumerate(slots) if slot.start() not in given]
    remaining = list(PLACEHOLDER.finditer(filled))
    if not open_slots or len(remaining) != len(open_slots):  # a value holding `{{…}}` throws the count off
        return filled
    same = next((made for made in (template(program, literals) for program in defaults)
                 if made is not None and made.tokens == written.split()), None)
    if same is None or len(same.values) != len(slots):
        return filled
    for match, slot in zip(reversed(remaining), reversed(open_slots)):  # the training program's own words
        filled = filled[: match.start()] + same.values[slot] + filled[match.end() :]
    return filled
