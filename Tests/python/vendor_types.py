# SPDX-License-Identifier: Apache-2.0
"""Strict checks of JSON documents against the vendors' official SDK types (issue 16: "validate
the upstream requests and the results with the vendors' official SDK types").

Two kinds of SDK type:
- TypedDicts (anthropic's and openai's request params): pydantic's TypeAdapter ignores unknown
  keys of a TypedDict and validates an `Iterable[...]` field lazily (never, unless iterated), so
  a misspelled field or a wrong message shape would pass. `check_typed` walks the document and
  the type together instead: unknown keys, missing required keys, wrong scalars and unmatched
  union members all fail, with the JSON path of the first difference.
- pydantic models (google-genai, cohere, mistralai, ollama): validated by pydantic, then
  `check_model` also refuses keys that the model does not declare (mistralai and ollama ignore
  them, cohere keeps them as extras), at any depth.
"""

import collections.abc
import types
import typing

import pydantic
import typing_extensions as te

_WRAPPERS = {te.Required, te.NotRequired, getattr(te, "ReadOnly", te.Required)}
_SEQUENCES = {list, collections.abc.Iterable, collections.abc.Sequence, tuple}
_MAPPINGS = {dict, collections.abc.Mapping}


class Mismatch(AssertionError):
    pass


def check_typed(value, tp, what="document"):
    """Fails with the JSON path of the first difference between `value` and the type `tp`."""
    error = _check(value, tp, "$")
    if error:
        raise Mismatch("%s does not match %s: %s" % (what, getattr(tp, "__name__", tp), error))
    return value


def check_model(cls, data, what="document"):
    """`data` validated by the pydantic model `cls` (by alias or name), refusing undeclared keys
    at any depth; returns the model instance."""
    try:
        instance = cls.model_validate(data)
    except pydantic.ValidationError as exc:
        raise Mismatch("%s does not match %s: %s" % (what, cls.__name__, exc)) from None
    error = _extras(data, instance, "$")
    if error:
        raise Mismatch("%s does not match %s: %s" % (what, cls.__name__, error))
    return instance


def check_adapter(tp, data, what="document"):
    """`data` validated as any type pydantic takes (a union of models, say), refusing undeclared
    keys like check_model; returns the validated value."""
    try:
        value = pydantic.TypeAdapter(tp).validate_python(data)
    except pydantic.ValidationError as exc:
        raise Mismatch("%s: %s" % (what, exc)) from None
    error = _extras(data, value, "$")
    if error:
        raise Mismatch("%s: %s" % (what, error))
    return value


def check_list(cls, items, what="document"):
    assert isinstance(items, list), "%s: a list expected, got %r" % (what, items)
    return [check_model(cls, item, "%s[%d]" % (what, i)) for i, item in enumerate(items)]


# -- TypedDicts ---------------------------------------------------------------------------------

def _fields(td):
    """{wire key: (type, required)} of a TypedDict, honouring Annotated[..., PropertyInfo(alias=)]."""
    hints = te.get_type_hints(td, include_extras=True)
    # __required_keys__ has each base's totality right; an explicit Required / NotRequired
    # (which it misses when the SDK's annotations are strings) overrides it below.
    by_totality = getattr(td, "__required_keys__", frozenset())
    out = {}
    for name, hint in hints.items():
        required = name in by_totality
        key = name
        while True:
            origin = te.get_origin(hint)
            if origin in _WRAPPERS:
                required = origin is te.Required or (origin is not te.NotRequired and required)
                hint = te.get_args(hint)[0]
            elif origin is te.Annotated:
                for meta in hint.__metadata__:
                    alias = getattr(meta, "alias", None)
                    if isinstance(alias, str):
                        key = alias
                hint = te.get_args(hint)[0]
            else:
                break
        out[key] = (hint, required)
    return out


def _check(v, tp, path):
    if tp is typing.Any or tp is object:
        return None
    if isinstance(tp, te.TypeAliasType):
        return _check(v, tp.__value__, path)
    origin = te.get_origin(tp)
    args = te.get_args(tp)
    if origin is te.Annotated or origin in _WRAPPERS:
        return _check(v, args[0], path)
    if tp is None or tp is type(None):
        return None if v is None else "%s: null expected, got %r" % (path, v)
    if origin is te.Literal:
        ok = any(v == a and type(v) is type(a) for a in args)
        return None if ok else "%s: %r is not one of %r" % (path, v, list(args))
    if origin is typing.Union or origin is types.UnionType:
        errors = [_check(v, member, path) for member in args]
        if any(e is None for e in errors):
            return None
        # The member that got furthest names the likeliest mistake.
        closest = max(errors, key=lambda e: e.split(":")[0].count(".") + e.split(":")[0].count("["))
        return closest if closest.startswith("no member") else "no member of %s matches; closest: %s" % (path, closest)
    if te.is_typeddict(tp):
        if not isinstance(v, dict):
            return "%s: an object (%s) expected, got %r" % (path, tp.__name__, v)
        fields = _fields(tp)
        for key in v:
            if key not in fields:
                return "%s: unknown key %r for %s (known: %s)" % (path, key, tp.__name__, sorted(fields))
        for key, (hint, required) in fields.items():
            if key not in v:
                if required:
                    return "%s: required key %r of %s missing" % (path, key, tp.__name__)
                continue
            error = _check(v[key], hint, "%s.%s" % (path, key))
            if error:
                return error
        return None
    if origin in _SEQUENCES or tp in _SEQUENCES:
        if not isinstance(v, list):
            return "%s: an array expected, got %r" % (path, v)
        item = args[0] if args else typing.Any
        for i, x in enumerate(v):
            error = _check(x, item, "%s[%d]" % (path, i))
            if error:
                return error
        return None
    if origin in _MAPPINGS or tp in _MAPPINGS:
        if not isinstance(v, dict):
            return "%s: an object expected, got %r" % (path, v)
        item = args[1] if len(args) == 2 else typing.Any
        for k, x in v.items():
            error = _check(x, item, "%s.%s" % (path, k))
            if error:
                return error
        return None
    if tp is float:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        return None if ok else "%s: a number expected, got %r" % (path, v)
    if tp is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
        return None if ok else "%s: an integer expected, got %r" % (path, v)
    if isinstance(tp, type) and issubclass(tp, pydantic.BaseModel):
        try:
            check_model(tp, v)
        except Mismatch as exc:
            return "%s: %s" % (path, exc)
        return None
    if isinstance(tp, type):
        return None if isinstance(v, tp) else "%s: %s expected, got %r" % (path, tp.__name__, v)
    return "%s: the checker does not know the type %r" % (path, tp)


# -- pydantic models ----------------------------------------------------------------------------

def _keys(model):
    names = {}
    for name, field in type(model).model_fields.items():
        names[name] = name
        for alias in (field.alias, field.validation_alias, field.serialization_alias):
            if isinstance(alias, str):
                names[alias] = name
    return names


def _extras(data, value, path):
    if isinstance(value, pydantic.BaseModel) and isinstance(data, dict):
        names = _keys(value)
        for key, sub in data.items():
            if key not in names:
                return "%s: unknown key %r for %s (known: %s)" % (
                    path, key, type(value).__name__, sorted(type(value).model_fields))
            error = _extras(sub, getattr(value, names[key]), "%s.%s" % (path, key))
            if error:
                return error
    elif isinstance(data, list) and isinstance(value, (list, tuple)):
        for i, (d, x) in enumerate(zip(data, value)):
            error = _extras(d, x, "%s[%d]" % (path, i))
            if error:
                return error
    elif isinstance(data, dict) and isinstance(value, dict):
        for key, sub in data.items():
            if key in value:
                error = _extras(sub, value[key], "%s.%s" % (path, key))
                if error:
                    return error
    return None
