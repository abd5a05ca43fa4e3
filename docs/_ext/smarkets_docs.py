"""Sphinx directives that render parts of the documentation from the code itself.

* ``.. program-help:: module:function`` -- the ``--help`` text of the argument parser that
  ``function()`` returns; with ``:subcommands:``, also the help of each subcommand.
* ``.. exception-tree:: smarkets.errors.Error`` -- the class and every subclass of it
  defined in the ``smarkets`` package, as a nested list with each one's summary line.
* ``.. logout-reasons::`` -- every eto ``LogoutReason``, the exception
  :func:`smarkets.session.error_for_end` raises for it and whether the session is resumable.
* ``.. sandbox-defaults:: accounts`` (or ``markets``) -- the sandbox's default accounts
  (or market catalogue), as a table.
* ``.. public-names:: smarkets`` -- every name of the module's ``__all__`` with its summary
  line, linked to where it is documented. A name whose documentation cannot be found is a
  warning, so an undocumented public name fails a ``-W`` build.

Every page is re-read on every build (see :func:`_read_everything`).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from protoref import table as _table
from sphinx import addnodes

#: Width of the rendered ``--help`` text.
HELP_WIDTH = 88

Cell = list[nodes.Node]


def _resolve(spec: str) -> Any:
    """``package.module:attribute`` (or ``package.module.attribute``) -> the object."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _summary(obj: Any) -> str:
    """The first paragraph of ``obj``'s docstring, on one line."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _xref(target: str, text: str, reftype: str = "obj") -> addnodes.pending_xref:
    """A Python cross-reference that warns (fails a -W build) when it does not resolve."""
    return addnodes.pending_xref(
        "",
        nodes.literal(text, text, classes=["xref", "py", f"py-{reftype}"]),
        refdomain="py",
        reftype=reftype,
        reftarget=target,
        refexplicit=True,
        refwarn=True,
        **{"py:module": None, "py:class": None},
    )


def _lit(text: str) -> Cell:
    return [nodes.paragraph("", "", nodes.literal(text, text))]


def _para(*children: nodes.Node | str) -> Cell:
    parts = [nodes.Text(c) if isinstance(c, str) else c for c in children]
    return [nodes.paragraph("", "", *parts)]


def _money(units: int) -> str:
    """1/10,000 units as currency: 10000000 -> '1,000.00'."""
    return f"{units // 10_000:,}.{units % 10_000 // 100:02d}"


class _Base(Directive):
    def inline(self, text: str) -> list[nodes.Node]:
        """``text`` parsed as inline reStructuredText (roles and all)."""
        parsed, messages = self.state.inline_text(text, self.lineno)
        return [*parsed, *messages]


class ProgramHelp(_Base):
    """The ``--help`` output of an :mod:`argparse` parser, as a literal block."""

    required_arguments = 1
    option_spec = {"subcommands": directives.flag}

    def run(self) -> list[nodes.Node]:
        parser = _resolve(self.arguments[0])()
        out: list[nodes.Node] = [self._help(parser)]
        if "subcommands" in self.options:
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for sub in action.choices.values():
                        out.append(nodes.rubric("", "", nodes.literal(sub.prog, sub.prog)))
                        out.append(self._help(sub))
        return out

    @staticmethod
    def _help(parser: argparse.ArgumentParser) -> nodes.literal_block:
        cls = parser.formatter_class

        def formatter(prog: str) -> argparse.HelpFormatter:
            return cls(prog, width=HELP_WIDTH)

        parser.formatter_class = formatter  # type: ignore[assignment]
        text = parser.format_help().rstrip()
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return block


def _import_all(package: str) -> None:
    """Import every module of ``package``, so that every subclass is known."""
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)


def _source_key(cls: type, first_module: str) -> tuple[bool, str, int]:
    """Classes of ``first_module`` first, then by module; in source order within each."""
    try:
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        line = 0
    return cls.__module__ != first_module, cls.__module__, line


class ExceptionTree(_Base):
    """A class and its subclasses in the same package, as nested bullet lists."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        base = _resolve(self.arguments[0])
        package = base.__module__.split(".")[0]
        _import_all(package)
        self.first_module = base.__module__
        return [self._list([base], package)]

    def _list(self, classes: list[type], package: str) -> nodes.bullet_list:
        bullets = nodes.bullet_list()
        for cls in sorted(classes, key=lambda c: _source_key(c, self.first_module)):
            target = f"{cls.__module__}.{cls.__qualname__}"
            para = nodes.paragraph("", "", _xref(target, cls.__name__, "exc"))
            others = [
                b.__name__
                for b in cls.__bases__
                if b.__module__.split(".")[0] != package and b not in (Exception, object)
            ]
            if others:
                para += nodes.Text(f" (also a {', '.join(others)})")
            summary = _summary(cls)
            if summary:
                para += nodes.Text(": ")
                para.extend(self.inline(summary))
            item = nodes.list_item("", para)
            subclasses = [
                sub
                for sub in cls.__subclasses__()
                if sub.__module__.split(".")[0] == package and cls in sub.__bases__
            ]
            if subclasses:
                item += self._list(subclasses, package)
            bullets += item
        return bullets


class LogoutReasons(_Base):
    """Each LogoutReason, the exception it becomes and whether it is resumable."""

    def run(self) -> list[nodes.Node]:
        from smarkets.proto import eto_pb2
        from smarkets.protocol import SessionEnded
        from smarkets.session import error_for_end

        rows = []
        for name, value in eto_pb2.LogoutReason.items():
            error = error_for_end(SessionEnded(value, by_peer=True))
            cls = type(error)
            target = f"{cls.__module__}.{cls.__qualname__}"
            rows.append(
                [
                    _lit(name),
                    _para(str(value)),
                    _para(_xref(target, cls.__name__, "exc")),
                    _para("yes" if error.resumable else "no"),
                ]
            )
        headers = ["LogoutReason", "value", "raises", "resumable"]
        return [_table(headers, [38, 8, 26, 12], rows)]


class SandboxDefaults(_Base):
    """``.. sandbox-defaults:: accounts`` or ``markets``: what the sandbox opens by default."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        what = self.arguments[0]
        if what == "accounts":
            from smarkets.sandbox.exchange.accounts_file import DEFAULT_ACCOUNTS

            rows = [
                [_lit(a.name), _lit(a.password), _para(f"{a.balance} ({_money(a.balance)})")]
                for a in DEFAULT_ACCOUNTS
            ]
            return [_table(["account", "password", "balance"], [20, 20, 40], rows)]
        if what == "markets":
            from smarkets.protocol.ids import uuid128_to_str
            from smarkets.sandbox.exchange.markets_file import default_markets

            rows = []
            for spec in default_markets():
                contracts: list[nodes.Node | str] = []
                for contract_id, name in spec.contract_names():
                    text = uuid128_to_str(contract_id, "contract")
                    if contracts:
                        contracts.append(", ")
                    contracts += [nodes.literal(text, text), f" {name}"]
                rows.append(
                    [
                        _lit(spec.text_id),
                        _para(spec.name),
                        _para(spec.event_name),
                        _para(*contracts),
                    ]
                )
            headers = ["market", "name", "event", "contracts"]
            return [_table(headers, [10, 22, 22, 46], rows)]
        raise self.error(f"sandbox-defaults: unknown {what!r} (accounts or markets)")


class PublicNames(_Base):
    """Every name of a module's ``__all__``, linked to its documentation."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        module = importlib.import_module(module_name)
        rows = []
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                target = f"{obj.__module__}.{obj.__qualname__}"
                is_exception = inspect.isclass(obj) and issubclass(obj, BaseException)
                reftype = "exc" if is_exception else "obj"
                summary = _summary(obj)
                if obj.__name__ != name:
                    summary = f"The same as :func:`{target}`."
            else:
                target, reftype = f"{module_name}.{name}", "data"
                summary = "The version of the installed package." if name == "__version__" else ""
            rows.append([_para(_xref(target, name, reftype)), _para(*self.inline(summary))])
        return [_table(["name", "what it is"], [30, 70], rows)]


def _read_everything(app: Any, env: Any, added: Any, changed: Any, removed: Any) -> list[str]:
    """Re-read every page on every build.

    Much of these pages is made from the code (docstrings, ``--help``, the protobuf
    descriptors), which Sphinx does not track; and a page that is not re-read is not
    re-checked, so after a build that failed under ``-W --keep-going`` the next build
    would pass without the problem being fixed. A full build takes seconds.
    """
    return sorted(env.found_docs)


def setup(app: Any) -> dict[str, Any]:
    app.connect("env-get-outdated", _read_everything)
    app.add_directive("program-help", ProgramHelp)
    app.add_directive("exception-tree", ExceptionTree)
    app.add_directive("logout-reasons", LogoutReasons)
    app.add_directive("sandbox-defaults", SandboxDefaults)
    app.add_directive("public-names", PublicNames)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
