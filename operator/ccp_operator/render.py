"""Rendering of configuration files and job commands from Jinja2 templates (no API calls here).

Templates live in ccp_operator/templates/<service>/ and share macros from templates/common/.
Undefined variables are errors, so a template can never silently render an empty value.
"""

from __future__ import annotations

import configparser
import functools
from typing import Any

import jinja2

from .errors import InvalidSpec
from .services.base import ConfigFile


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ccp_operator", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render_file(config_file: ConfigFile, context: dict[str, Any]) -> str:
    text = environment().get_template(config_file.template).render(**context)
    # Collapse the blank runs that skipped sections leave behind.
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def render_string(template: str, context: dict[str, Any]) -> str:
    return environment().from_string(template).render(**context)


def check_custom_config(field: str, text: str) -> None:
    """Refuses a customConfig that oslo.config could not read as an INI file."""
    parser = configparser.RawConfigParser(strict=True, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise InvalidSpec(field, f"not a valid oslo.config (INI) snippet: {first_line}") from exc
