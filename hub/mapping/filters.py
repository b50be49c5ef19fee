r"""The delivery filter language: ``postcode startswith 'SW' and age >= 18`` (parsed, never eval'd).

    filter     := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | comparison
    comparison := FIELD ( OP value | ["not"] "in" list | "is" ["not"] "empty" | "matches" STRING )
    OP         := == = != < <= > >= contains startswith endswith
    value      := 'text' | "text" | number | true | false | null
    list       := "[" value ("," value)* "]"

Text comparisons ignore case. ``<``-style comparisons are numeric when both
sides are numbers, else textual. A missing field is null: it equals null, is
empty, and fails every other comparison. In quoted text ``\'`` ``\"`` ``\\``
``\n`` ``\t`` are escapes and any other backslash is kept, so a regular
expression is written as usual: ``postcode matches '^SW\d'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

KEYWORDS = {"and", "or", "not", "in", "is", "empty", "matches", "contains", "startswith", "endswith",
            "true", "false", "null"}
TRUE_WORDS = {"true", "1", "yes", "y", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "off"}
TEXT_OPS = {"contains", "startswith", "endswith"}
SYMBOL_OPS = {"==", "=", "!=", "<", "<=", ">", ">="}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?![A-Za-z_]))
  | (?P<op><=|>=|==|!=|=|<|>)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
""", re.VERBOSE | re.DOTALL)
MAX_LENGTH = 4000
MAX_DEPTH = 50


class FilterError(ValueError):
    """A filter that cannot be parsed: what is wrong and where (0-based ``position``)."""

    def __init__(self, message: str, position: int) -> None:
        self.message = message
        self.position = position
        super().__init__(f"at column {position + 1}: {message}")


@dataclass(frozen=True)
class Token:
    """One lexical piece of a filter, with where it starts."""

    kind: str  # string, number, op, punct, word, end
    text: str
    value: Any
    position: int


_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def _unquote(text: str) -> str:
    # Unknown escapes keep their backslash (as Python's do) so regular expressions need no doubling.
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group()), text[1:-1], flags=re.DOTALL)


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens, ending with an ``end`` token; FilterError on a stray character."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(f"unexpected character {text[position]!r}", position)
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "string":
            tokens.append(Token("string", raw, _unquote(raw), position))
        elif kind == "number":
            tokens.append(Token("number", raw, Decimal(raw), position))
        elif kind != "space":
            tokens.append(Token(kind, raw, raw, position))
        position = match.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def _truth(value: Any) -> bool | None:
    """A value read as a yes/no answer (as forms send them), or None when it is not one."""
    if isinstance(value, bool):
        return value
    word = _text(value).strip()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(right, bool) or isinstance(left, bool):
        return _truth(left) is not None and _truth(left) == _truth(right)
    left_n, right_n = _number(left), _number(right)
    if left_n is not None and right_n is not None:
        return left_n == right_n
    return _text(left) == _text(right)


def _ordered(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    left_n, right_n = _number(left), _number(right)
    a, b = (left_n, right_n) if left_n is not None and right_n is not None else (_text(left), _text(right))
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("==", "="):
        return _equal(left, right)
    if op == "!=":
        return left is not None and not _equal(left, right)
    if op in TEXT_OPS:
        if left is None or right is None:
            return False
        a, b = _text(left), _text(right)
        return b in a if op == "contains" else a.startswith(b) if op == "startswith" else a.endswith(b)
    return _ordered(op, left, right)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not (value.strip() if isinstance(value, str) else value))


@dataclass
class _Parser:
    tokens: list[Token]
    fields: set[str] = field(default_factory=set)
    index: int = 0
    depth: int = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def _word(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() in words

    def _advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.token.kind != "end":
            raise FilterError(f"expected 'and', 'or' or the end, found {self.token.text!r}", self.token.position)
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._word("or"):
            self._advance()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda lead: any(p(lead) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._word("and"):
            self._advance()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda lead: all(p(lead) for p in parts))

    def _not(self) -> Predicate:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError("the filter is nested too deeply", self.token.position)
        try:
            if self._word("not"):
                self._advance()
                inner = self._not()
                return lambda lead: not inner(lead)
            if self.token.kind == "punct" and self.token.text == "(":
                self._advance()
                inner = self._or()
                self._expect(")")
                return inner
            return self._comparison()
        finally:
            self.depth -= 1

    def _expect(self, text: str) -> None:
        if self.token.text != text:
            raise FilterError(f"expected {text!r}, found {self.token.text or 'the end'!r}", self.token.position)
        self._advance()

    def _comparison(self) -> Predicate:
        token = self.token
        if token.kind != "word" or token.text.lower() in KEYWORDS:
            raise FilterError(f"expected a field name, found {token.text or 'the end'!r}", token.position)
        name = self._advance().text
        self.fields.add(name)
        op = self.token
        if op.kind == "op":
            self._advance()
            right = self._value(op.text)
            return lambda lead: _compare(op.text, lead.get(name), right)
        word = op.text.lower() if op.kind == "word" else ""
        if word in TEXT_OPS:
            self._advance()
            right = self._value(word)
            return lambda lead: _compare(word, lead.get(name), right)
        if word == "matches":
            self._advance()
            pattern = self._regex()
            return lambda lead: lead.get(name) is not None and pattern.search(str(lead.get(name))) is not None
        if word == "is":
            self._advance()
            negate = self._word("not")
            if negate:
                self._advance()
            if not self._word("empty"):
                raise FilterError("expected 'empty' after 'is'", self.token.position)
            self._advance()
            return (lambda lead: not _is_empty(lead.get(name))) if negate else (lambda lead: _is_empty(lead.get(name)))
        if word in ("in", "not"):
            negate = word == "not"
            if negate:
                self._advance()
            if not self._word("in"):
                raise FilterError("expected 'in' after 'not'", self.token.position)
            self._advance()
            options = self._list()
            found = lambda lead: any(_equal(lead.get(name), o) for o in options)  # noqa: E731
            return (lambda lead: lead.get(name) is not None and not found(lead)) if negate else found
        raise FilterError(f"expected a comparison after '{name}' (==, !=, <, >, contains, startswith, endswith, "
                          f"in, matches, is empty), found {op.text or 'the end'!r}", op.position)

    def _value(self, after: str) -> Any:
        token = self.token
        if token.kind in ("string", "number"):
            self._advance()
            return token.value
        if self._word("true", "false", "null"):
            self._advance()
            return {"true": True, "false": False, "null": None}[token.text.lower()]
        raise FilterError(f"expected a value after '{after}' (quote text: 'like this')", token.position)

    def _regex(self) -> re.Pattern[str]:
        token = self.token
        if token.kind != "string":
            raise FilterError("expected a quoted regular expression after 'matches'", token.position)
        self._advance()
        try:
            return re.compile(token.value, re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"invalid regular expression: {exc}", token.position) from None

    def _list(self) -> list[Any]:
        self._expect("[")
        values = [self._value("[")]
        while self.token.text == ",":
            self._advance()
            values.append(self._value(","))
        self._expect("]")
        return values


@dataclass(frozen=True)
class Filter:
    """A compiled filter: its source ``text``, the ``fields`` it reads, and ``matches``."""

    text: str
    fields: frozenset[str]
    _predicate: Predicate | None

    def matches(self, lead: Mapping[str, Any]) -> bool:
        """Whether the lead passes; never raises (an odd value simply does not match)."""
        if self._predicate is None:
            return True
        try:
            return bool(self._predicate(lead))
        except Exception:  # noqa: BLE001 - a filter must never stop a lead
            return False


def compile_filter(text: str) -> Filter:
    """Parse a filter; an empty one matches every lead. Raises FilterError with the column."""
    if not text or not text.strip():
        return Filter(text or "", frozenset(), None)
    if len(text) > MAX_LENGTH:
        raise FilterError(f"a filter can be at most {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(tokenize(text))
    predicate = parser.parse()
    return Filter(text, frozenset(parser.fields), predicate)
