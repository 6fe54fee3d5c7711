"""Quality scoring forms (``config/qa/*.yaml``) and the arithmetic of a score, sans IO.

A form has items with weights and a scale (form-wide, an item may narrow it). A score gives a
value on its item's scale for every item (``null`` only where the item is ``optional``: not
applicable, left out of both sums). The total is the weighted mean of the normalised values,
on 0..100, rounded to two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from recordings.yamlconf import ConfigError, load_model

_ID = r"^[a-z0-9][a-z0-9_-]*$"


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int = 0
    max: int = 5

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max}) must be greater than min ({self.min})")
        return self


class FormItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    weight: float = Field(gt=0)
    scale: Scale | None = None
    optional: bool = False  # may be scored "not applicable"


class ScoringForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    scale: Scale = Scale()
    items: list[FormItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_items(self) -> ScoringForm:
        seen: set[str] = set()
        for item in self.items:
            if item.id in seen:
                raise ValueError(f"item id {item.id!r} is used twice")
            seen.add(item.id)
        return self

    def scale_of(self, item: FormItem) -> Scale:
        return item.scale or self.scale


class ScoreError(ValueError):
    """The values do not fit the form; the message lists every problem."""


def score_total(form: ScoringForm, values: Mapping[str, int | float | None]) -> float:
    problems = [f"unknown item {key!r}" for key in values if key not in {i.id for i in form.items}]
    weighted = 0.0
    weights = 0.0
    for item in form.items:
        value = values.get(item.id)
        if value is None:
            if not item.optional:
                problems.append(f"item {item.id!r} needs a value")
            continue
        scale = form.scale_of(item)
        if isinstance(value, bool) or not scale.min <= value <= scale.max:
            problems.append(f"item {item.id!r}: {value!r} is outside {scale.min}..{scale.max}")
            continue
        weighted += item.weight * (value - scale.min) / (scale.max - scale.min)
        weights += item.weight
    if problems:
        raise ScoreError("; ".join(problems))
    if weights == 0:
        raise ScoreError("every item is not applicable: nothing to score")
    return round(100 * weighted / weights, 2)


def load_forms(directory: Path) -> dict[str, ScoringForm]:
    """Every ``*.yaml`` form in ``directory``; all problems of all files in one ConfigError."""
    forms: dict[str, ScoringForm] = {}
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            form = load_model(ScoringForm, path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if form.id in forms:
            problems.append(f"{path}:1:1: form id {form.id!r} is defined twice")
        forms[form.id] = form
    if problems:
        raise ConfigError(problems)
    return forms
