"""Reading a posted form's fields as the use cases want them."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from services.errors import Invalid


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def integer(form: FormData, name: str) -> int:
    try:
        return int(text(form, name))
    except ValueError:
        raise Invalid(name, f"{name}：应为整数") from None


def filled(form: FormData, *names: str, as_: str | None = None) -> dict[str, Any]:
    """The named fields a person filled in, as typed (a field left empty is not sent, as in an API
    call that leaves it out); `as_` renames a single field."""
    found = {name: str(form.get(name, "")).strip() for name in names}
    return {(as_ or name): value for name, value in found.items() if value}
