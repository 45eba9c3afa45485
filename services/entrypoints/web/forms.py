"""Reading a posted form's fields as the use cases want them."""

from __future__ import annotations

from starlette.datastructures import FormData

from services.errors import Invalid


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def integer(form: FormData, name: str) -> int:
    try:
        return int(text(form, name))
    except ValueError:
        raise Invalid(name, f"{name}：应为整数") from None
