"""The part of OData that Microsoft Graph speaks and the sandbox emulates: error envelopes,
query options ($filter subset, $select, $top, $count, $skiptoken) and server-driven paging."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator
from urllib.parse import quote, urlencode

MAX_PAGE_SIZE = 999
SUPPORTED_OPTIONS = ("$filter", "$select", "$top", "$skiptoken", "$count")
# Real Graph knows these; the sandbox does not, and says so instead of ignoring them silently.
UNSUPPORTED_OPTIONS = ("$orderby", "$search", "$expand", "$skip", "$format", "$apply", "$levels")


class GraphError(Exception):
    """An error answered in Graph's envelope: {"error": {"code", "message", "details"?, "innerError"}}."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self, date: str, request_id: str, client_request_id: str) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        error["innerError"] = {"date": date, "request-id": request_id, "client-request-id": client_request_id}
        return {"error": error}


def bad_request(message: str, code: str = "Request_BadRequest", details: list | None = None) -> GraphError:
    return GraphError(400, code, message, details)


def unsupported(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def not_found(object_id: str) -> GraphError:
    return GraphError(
        404, "Request_ResourceNotFound", f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present."
    )


# ----------------------------------------------------------------------------------- $filter

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<punct>[(),:])
  | (?P<word>[A-Za-z_$][A-Za-z0-9_./$]*)
)""",
    re.VERBOSE,
)

_COMPARISONS = ("ne", "gt", "ge", "lt", "le", "in", "has")
_FUNCTIONS = ("endswith", "contains", "substringof", "tolower", "toupper", "length", "indexof")
_LITERAL_WORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Condition:
    op: str  # "eq", "startswith" or "any_eq"
    prop: str
    value: object


@dataclass(frozen=True)
class Schema:
    """What a $filter and $select may name on one Graph type."""

    type_name: str  # e.g. "application", as in microsoft.graph.application
    filterable: frozenset  # scalar properties: eq and startsWith
    collections: frozenset = frozenset()  # string collections: prop/any(x:x eq '...')
    selectable: tuple = ()


def _tokens(text: str) -> list:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise bad_request(f"Invalid filter clause: syntax error at position {position} in '{text}'.", code="BadRequest")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _FilterParser:
    def __init__(self, text: str, schema: Schema):
        self.text = text
        self.schema = schema
        self.tokens = _tokens(text)
        self.index = 0

    def parse(self) -> list:
        conditions = self._expression()
        if self.index < len(self.tokens):
            self._reject(self.tokens[self.index])
        return conditions

    def _peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None)

    def _take(self, kind=None, value=None):
        token = self._peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            expected = value or kind or "more input"
            raise bad_request(f"Invalid filter clause: expected {expected} in '{self.text}'.", code="BadRequest")
        self.index += 1
        return token[1]

    def _reject(self, token):
        kind, value = token
        if kind == "word" and value.lower() in ("or", "not") + _COMPARISONS:
            raise unsupported(f"Operator '{value.lower()}' is not supported.")
        raise bad_request(f"Invalid filter clause: unexpected '{value}' in '{self.text}'.", code="BadRequest")

    def _expression(self) -> list:
        conditions = self._clause()
        while self._peek() == ("word", "and"):
            self.index += 1
            conditions += self._clause()
        return conditions

    def _clause(self) -> list:
        kind, value = self._peek()
        if kind == "punct" and value == "(":
            self.index += 1
            inner = self._expression()
            self._take("punct", ")")
            return inner
        if kind != "word":
            raise bad_request(f"Invalid filter clause: expected a property or function in '{self.text}'.", code="BadRequest")
        lowered = value.lower()
        if lowered == "not":
            raise unsupported("Operator 'not' is not supported.")
        if lowered == "startswith":
            self.index += 1
            self._take("punct", "(")
            prop = self._property(self._take("word"))
            self._take("punct", ",")
            literal = self._literal()
            self._take("punct", ")")
            if not isinstance(literal, str):
                raise bad_request("Invalid filter clause: startsWith needs a string literal.", code="BadRequest")
            return [Condition("startswith", prop, literal)]
        if lowered in _FUNCTIONS:
            raise unsupported(f"Function '{value}' is not supported.")
        self.index += 1
        if "/" in value:
            return [self._lambda(value)]
        prop = self._property(value)
        operator = self._take("word")
        if operator != "eq":
            raise unsupported(f"Operator '{operator.lower()}' is not supported.")
        return [Condition("eq", prop, self._literal())]

    def _lambda(self, path: str) -> Condition:
        prop, _, operator = path.partition("/")
        if operator != "any" or prop not in self.schema.collections:
            raise unsupported(f"Unsupported or invalid query filter clause specified for property '{path}' of resource '{_resource(self.schema)}'.")
        self._take("punct", "(")
        variable = self._take("word")
        self._take("punct", ":")
        if self._take("word") != variable:
            raise unsupported("Only 'x eq <literal>' is supported inside any().")
        if self._take("word") != "eq":
            raise unsupported("Only 'x eq <literal>' is supported inside any().")
        literal = self._literal()
        self._take("punct", ")")
        return Condition("any_eq", prop, literal)

    def _property(self, name: str) -> str:
        if name not in self.schema.filterable:
            raise unsupported(f"Unsupported or invalid query filter clause specified for property '{name}' of resource '{_resource(self.schema)}'.")
        return name

    def _literal(self):
        kind, value = self._peek()
        self.index += 1
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "guid":
            return value
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "word" and value in _LITERAL_WORDS:
            return _LITERAL_WORDS[value]
        raise bad_request(f"Invalid filter clause: expected a literal in '{self.text}'.", code="BadRequest")


def _resource(schema: Schema) -> str:
    return schema.type_name[0].upper() + schema.type_name[1:]


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def matches(conditions: list, get: Callable[[object, str], object], obj) -> bool:
    """Graph compares strings case-insensitively in $filter."""
    for condition in conditions:
        actual = get(obj, condition.prop)
        if condition.op == "eq":
            if _fold(actual) != _fold(condition.value):
                return False
        elif condition.op == "startswith":
            if not isinstance(actual, str) or not actual.casefold().startswith(condition.value.casefold()):
                return False
        elif not any(_fold(item) == _fold(condition.value) for item in actual or ()):
            return False
    return True


# ----------------------------------------------------------------------------------- options


@dataclass
class Query:
    params: dict  # the request's query parameters, first value of each
    top: int | None = None
    select: list | None = None
    conditions: list = field(default_factory=list)
    skiptoken: str | None = None
    count: bool = False


def parse_query(raw: dict, schema: Schema | None, headers, collection: bool) -> Query:
    """Validate the system query options of one request against `schema`."""
    # System query options are matched without regard to case, like Graph does.
    params = {(name.lower() if name.startswith("$") else name): values[0] for name, values in raw.items() if values}
    query = Query(params=params)
    for name in params:
        lowered = name.lower()
        if lowered in UNSUPPORTED_OPTIONS:
            raise unsupported(f"The query option '{name}' is not supported by this sandbox; supported: {', '.join(SUPPORTED_OPTIONS)}.")
        if lowered.startswith("$") and lowered not in SUPPORTED_OPTIONS:
            raise bad_request(f"Query option '{name}' is not allowed.", code="BadRequest")
    if "$select" in params:
        query.select = _parse_select(params["$select"], schema)
    if not collection:
        for name in ("$filter", "$top", "$skiptoken", "$count"):
            if name in params:
                raise bad_request(f"Query option '{name}' is not allowed on a single object.", code="BadRequest")
        return query
    if "$top" in params:
        text = params["$top"]
        if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
            raise bad_request(f"Invalid page size specified: '{text}'. Must be between 1 and {MAX_PAGE_SIZE} inclusive.")
        query.top = int(text)
    if "$filter" in params:
        if schema is None or not schema.filterable:
            raise unsupported("$filter is not supported on this collection.")
        query.conditions = _FilterParser(params["$filter"], schema).parse()
    if "$count" in params:
        if params["$count"] not in ("true", "false"):
            raise bad_request("$count must be true or false.", code="BadRequest")
        query.count = params["$count"] == "true"
        if query.count and (headers.get("ConsistencyLevel") or "").lower() != "eventual":
            raise bad_request("$count is not currently supported without the header 'ConsistencyLevel: eventual'.")
    query.skiptoken = params.get("$skiptoken")
    return query


def _parse_select(text: str, schema: Schema | None) -> list:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = schema.selectable if schema else ()
    for name in names:
        if name not in known:
            type_name = schema.type_name if schema else "entity"
            raise bad_request(f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.")
    return names


# ----------------------------------------------------------------------------------- paging


class PageTokens:
    """Opaque, signed $skiptoken values: only ones this server issued are accepted, each only for
    the collection and query it was issued for."""

    def __init__(self, key: bytes):
        self._key = key

    def issue(self, scope: str, query: Query, position: int) -> str:
        payload = json.dumps({"s": scope, "q": _fingerprint(query), "p": position}, separators=(",", ":"))
        data = payload.encode()
        return _b64(data) + "." + _b64(self._mac(data))

    def position(self, token: str, scope: str, query: Query) -> int:
        invalid = bad_request("The specified page token value is invalid. Follow @odata.nextLink as returned; do not build or change $skiptoken yourself.")
        encoded, _, mac = token.partition(".")
        try:
            data = _unb64(encoded)
            authentic = hmac.compare_digest(_unb64(mac), self._mac(data))
            payload = json.loads(data) if authentic else None
        except (ValueError, binascii.Error):
            raise invalid from None
        if not payload or payload.get("s") != scope or payload.get("q") != _fingerprint(query):
            raise invalid
        return int(payload["p"])

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()[:18]


def _fingerprint(query: Query) -> str:
    relevant = sorted((k, v) for k, v in query.params.items() if k != "$skiptoken")
    return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def next_link(base_url: str, query: Query, token: str) -> str:
    params = [(k, v) for k, v in query.params.items() if k != "$skiptoken"] + [("$skiptoken", token)]
    return base_url + "?" + urlencode(params, quote_via=quote, safe="$'(),:/=")


@dataclass
class Page:
    items: list
    next_position: int | None
    count: int | None = None


def paginate(
    entries: Callable[[int], Iterator[tuple]], keep: Callable[[object], bool], start: int, size: int, count_all: Callable[[], int] | None = None
) -> Page:
    """Take `size` kept objects from entries(start) (pairs of position, object); look one kept object
    ahead so a next page is announced only when it has something on it."""
    items, last = [], None
    for position, obj in entries(start):
        if not keep(obj):
            continue
        if len(items) == size:
            return Page(items, last, count_all() if count_all else None)
        items.append(obj)
        last = position
    return Page(items, None, count_all() if count_all else None)


def count_kept(values: Iterable, keep: Callable[[object], bool]) -> int:
    return sum(1 for obj in values if keep(obj))
