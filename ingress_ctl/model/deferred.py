"""Fields of a pydantic model whose values' class is imported only when there are values.

The routing model has fields for the Gateway API's ports and splits, empty for Ingresses
alone: with pydantic's own schema of their class, every `render` would import and build
the Gateway API's model (model/gateways.py) for nothing. Such a field is declared with
`tuple_of` instead: pydantic checks that the value is a tuple (a list becomes one, as with its
own schema) of instances of the class, which is imported only to check a non-empty value
(whoever made the values has imported it already).
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

from pydantic import GetPydanticSchema
from pydantic_core import PydanticCustomError, core_schema


def tuple_of(module: str, name: str) -> Any:
    """The type of a field holding a tuple of `module.name` instances, as pydantic checks it
    (the type checker is told the real type under `TYPE_CHECKING`)."""

    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, tuple | list):
            raise PydanticCustomError("tuple_type", "Input should be a valid tuple")
        if value:
            kind = getattr(import_module(module), name)
            for item in value:
                if not isinstance(item, kind):
                    raise PydanticCustomError(
                        "is_instance_of", "Input should be an instance of {class}", {"class": name}
                    )
        return tuple(value)

    schema = core_schema.no_info_plain_validator_function(check)
    return Annotated[tuple[Any, ...], GetPydanticSchema(lambda _source, _handler: schema)]
