"""Finding messages as templates: written once in a check file, filled in by the runner and by synth.

A check file's ``message`` is one template, or a mapping from variant names to templates. A
template is text with ``{field}`` placeholders; ``{{`` and ``}}`` are literal braces. The runner
fills a template with the columns of a check's row; ``tomgraph synth`` fills the same template
with what it planted, so both print the same text.

Values are substituted, never read as templates: a name containing ``{model}`` prints as is.
A string prints as is, an integer or float as Python prints it, a boolean as ``true`` or
``false`` (as Cypher's ``toString``), a date as ``YYYY-MM-DD``. A list prints its items joined with
``, ``, or with the separator after a colon (``{parts:; }`` joins with ``; ``). A map (as a whole
value or as a list item) prints with the template its ``variant`` key names, filled with its
other keys; so a list can hold phrases of several kinds without any text in the Cypher.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from string import Formatter

FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VARIANT_NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")
RESERVED_FIELDS: frozenset[str] = frozenset({"subjects", "accountable", "severity", "variant", "message"})
"""Columns a check's row has for other purposes; a template cannot use them as fields."""
DEFAULT_SEPARATOR = ", "


class TemplateError(ValueError):
    """A template that cannot be parsed, or a field name it must not use; ``variant`` names its template."""

    def __init__(self, problem: str, variant: str | None = None) -> None:
        super().__init__(problem)
        self.variant = variant


class MessageValueError(ValueError):
    """Values that do not fill a template: a missing or null field, an unknown variant, a bad type."""


@dataclass(frozen=True)
class _Piece:
    literal: str
    field: str | None
    separator: str | None


@dataclass(frozen=True)
class MessageTemplate:
    """One check's message: a single template (``variants`` is None) or named ones."""

    templates: Mapping[str | None, tuple[_Piece, ...]]

    @classmethod
    def parse(cls, message: str | Mapping[str, str]) -> MessageTemplate:
        """Parse a check file's ``message``; raise TemplateError naming the variant at fault."""
        if isinstance(message, str):
            return cls({None: _parse(message)})
        if not message:
            raise TemplateError("must name at least one variant")
        templates: dict[str | None, tuple[_Piece, ...]] = {}
        for variant, text in message.items():
            if not VARIANT_NAME.fullmatch(variant):
                raise TemplateError("a variant name must be lowercase letters, digits and '-'", variant)
            try:
                templates[variant] = _parse(text)
            except TemplateError as exc:
                raise TemplateError(str(exc), variant) from exc
        return cls(templates)

    @property
    def variants(self) -> list[str] | None:
        """The variant names, or None for a single template."""
        names = [v for v in self.templates if v is not None]
        return names or None

    def fields(self, variant: str | None = None) -> set[str]:
        """The fields one template uses (the single one when ``variant`` is None)."""
        return {p.field for p in self.templates[variant] if p.field is not None}

    def all_fields(self) -> set[str]:
        return {p.field for pieces in self.templates.values() for p in pieces if p.field is not None}

    def render(self, values: Mapping[str, object], variant: str | None = None) -> str:
        """The text of one message; ``variant`` is required exactly when there are several templates."""
        if (variant is None) != (self.variants is None):
            if variant is None:
                raise MessageValueError(f"a variant is needed: one of {', '.join(self.variants or ())}")
            raise MessageValueError(f"variant '{variant}' given for a message with a single template")
        return self._fill(self._pieces(variant), values, lambda field: f"column {field}")

    def _pieces(self, variant: str | None) -> tuple[_Piece, ...]:
        if variant not in self.templates:
            raise MessageValueError(f"unknown variant {variant!r}; expected one of {', '.join(self.variants or ())}")
        return self.templates[variant]

    def _fill(self, pieces: tuple[_Piece, ...], values: Mapping[str, object], where: Callable[[str], str]) -> str:
        out: list[str] = []
        for piece in pieces:
            out.append(piece.literal)
            if piece.field is None:
                continue
            if piece.field not in values:
                raise MessageValueError(f"no {where(piece.field)}")
            out.append(self._value(values[piece.field], piece.separator, where(piece.field)))
        return "".join(out)

    def _value(self, value: object, separator: str | None, where: str) -> str:
        if value is None:
            raise MessageValueError(f"{where} must not be null")
        if isinstance(value, list):
            sep = DEFAULT_SEPARATOR if separator is None else separator
            return sep.join(self._value(item, None, f"item of {where}") for item in value)
        if separator is not None:
            raise MessageValueError(f"{where} has a separator but is not a list")
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, Mapping):
            variant = value.get("variant")
            if not isinstance(variant, str):
                raise MessageValueError(f"{where} is a map without a variant")
            return self._fill(
                self._pieces(variant), value, lambda key: f"key {key} in a map of variant '{variant}' in {where}"
            )
        iso_format = getattr(value, "iso_format", None)  # the driver's Date, DateTime, ...
        if callable(iso_format):
            return str(iso_format())
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        raise MessageValueError(f"{where} has a value of type {type(value).__name__}, which a message cannot print")


def _parse(text: str) -> tuple[_Piece, ...]:
    if not isinstance(text, str) or not text.strip():
        raise TemplateError("a template must be non-empty text")
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"{exc} (write {{{{ and }}}} for literal braces)") from exc
    pieces: list[_Piece] = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            pieces.append(_Piece(literal, None, None))
            continue
        if not FIELD_NAME.fullmatch(field):
            raise TemplateError(f"placeholder {{{field}}} must be a field name (letters, digits and '_')")
        if field in RESERVED_FIELDS:
            raise TemplateError(f"placeholder {{{field}}} uses a reserved column name")
        if conversion is not None:
            raise TemplateError(f"placeholder {{{field}!{conversion}}}: conversions are not supported")
        if spec and ("{" in spec or "}" in spec):
            raise TemplateError(f"placeholder {{{field}:{spec}}}: a separator cannot contain braces")
        pieces.append(_Piece(literal, field, spec or None))
    return tuple(pieces)


def join_names(names: Iterable[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    items = list(names)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
