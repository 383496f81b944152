"""Records: the model's values made by the thousand, and their fast constructor.

A record is a frozen, slotted, keyword-only stdlib dataclass: references, backends, routes
and hosts (model/routing.py), problems, reports. Translation makes them from values it has
already parsed and checked, about 100,000 of them for 10,000 Ingresses, so their constructor
counts: `fast_init` replaces the dataclass's `__init__` with one that stores each field
through its slot's descriptor, where the dataclass's own calls `object.__setattr__` for each
field (to get past the frozen `__setattr__`) and costs twice as much. Fields, defaults,
errors, equality, hashing and frozen instances stay the dataclass's own.

Calling the class still costs a dictionary of the keywords (a class takes them as one, a
function as a vector) and a call per field: where a translation makes records by the ten
thousand, it calls the record's `maker` instead, which makes the same record in half the
time.

A pydantic model that holds records declares the field `ByClass[...]` (a record, or a tuple of
them): pydantic then checks that each value is an instance of the record's class, as it does
for records with its own schema of a dataclass (instances are taken as they are, a list
becomes a tuple), but without generating that schema of every field of the record and of the
records it holds, which pydantic redoes for every model that holds a stdlib dataclass (a
tenth of building the routing model). Values of other types are refused, dicts included.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from types import MethodType
from typing import Annotated, Any, ParamSpec, TypeVar, cast, get_args, get_origin

from pydantic import GetCoreSchemaHandler, GetPydanticSchema
from pydantic_core import core_schema

T = TypeVar("T")
P = ParamSpec("P")


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted, keyword-only dataclass the fast constructor (decorate the
    `@dataclass(frozen=True, slots=True, kw_only=True)` class with it)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    values: dict[str, Any] = {}
    arguments, body = [], []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init or not field.kw_only or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: only keyword fields with plain defaults")
        values[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        if field.default is dataclasses.MISSING:
            arguments.append(field.name)
        else:
            values[f"_default_{field.name}"] = field.default
            arguments.append(f"{field.name}=_default_{field.name}")
        body.append(f"        _set_{field.name}(self, {field.name})")
    source = (
        f"def make({', '.join(values)}):\n"
        f"    def __init__(self, *, {', '.join(arguments)}):\n" + "\n".join(body) + "\n"
        "    return __init__\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, sys.modules[cls.__module__].__dict__, namespace)  # our own text: names of fields
    init = namespace["make"](**values)
    original = cls.__dict__["__init__"]
    init.__qualname__ = original.__qualname__
    init.__annotations__ = original.__annotations__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def maker(cls: Callable[P, T]) -> Callable[P, T]:
    """A function that makes the records of `cls` (a frozen, slotted dataclass of keyword
    fields): the same keywords, defaults and errors as `cls(...)`, the same record.

    It fills an instance of an unfrozen twin of the class, whose slots have the same names
    in the same places (stores that the interpreter makes without a call), then sets its
    `__class__`, which CPython allows between classes of the same layout. It is the
    constructor's code as a method of the class (the errors of a call name `Cls.__init__`
    and count its `self`, as the class's do)."""
    init = cls.__init__
    code = init.__code__
    names = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
    params = getattr(cls, "__dataclass_params__", None)
    slots = getattr(cls, "__slots__", None)
    if params is None or not params.frozen or names != slots or "record" in names:
        raise TypeError(f"{cls!r} is not a frozen, slotted dataclass of keyword fields")
    defaults = init.__kwdefaults__ or {}
    parameters = ", ".join(
        f"{name}=_defaults[{name!r}]" if name in defaults else name for name in names
    )
    body = "".join(f"        record.{name} = {name}\n" for name in names)
    source = (
        "def make(_twin, _defaults):\n"
        f"    def __init__(self, *, {parameters}):\n"
        f"        record = _twin()\n{body}        record.__class__ = self\n        return record\n"
        "    return __init__\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, {}, namespace)  # our own text: names of fields
    twin = type(f"{cls.__name__}Twin", (), {"__slots__": slots})
    function = namespace["make"](twin, defaults)
    function.__qualname__ = init.__qualname__
    return cast("Callable[P, T]", MethodType(function, cls))


def _by_class(source: Any, _handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """The schema of a record, or of a `tuple[Record, ...]`: an instance of its class (each)."""
    if get_origin(source) is tuple:
        return core_schema.tuple_variable_schema(
            core_schema.is_instance_schema(get_args(source)[0])
        )
    return core_schema.is_instance_schema(source)


ByClass = Annotated[T, GetPydanticSchema(_by_class)]
"""A field of a pydantic model holding a record (or a tuple of records): checked by class."""
