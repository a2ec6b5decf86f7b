"""Walk a tree-sitter tree with a ``LanguageSpec``: definitions and the rows the outline keeps.

Only containers are visited (the file's top level, class/namespace/impl bodies and wrappers such
as decorators, ``export`` or ``#ifdef``); function bodies are skipped whole. For each node:

- a definition keeps its header (from its first line to the line where its body starts) and
  the first line of its docstring or of the doc comment right above it; a scope (class, impl,
  module ...) then has its members walked the same way;
- an import keeps all its lines;
- a wrapper keeps its first line and is looked into;
- a comment is kept only as the doc comment of the definition that follows it;
- anything else (assignments, fields, statements) keeps its first line.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from reviewer.index.model import Definition
from reviewer.index.spec import DefRule, LanguageSpec, is_type_kind

_MAX_DEPTH = 48  # containers nested deeper than this are treated as plain statements
_MAX_NO_BODY_ROWS = 60  # a definition without a body (a struct type, an interface method) keeps this many rows
_MAX_IMPORT_ROWS = 60
_NAME_LEAVES = frozenset(
    {"identifier", "type_identifier", "field_identifier", "property_identifier", "constant",
     "simple_identifier", "name", "namespace_identifier", "private_property_identifier",
     "destructor_name", "operator_name", "package_identifier", "word"}
)
_QUALIFIED = frozenset(
    {"qualified_identifier", "scoped_identifier", "scoped_type_identifier", "qualified_name",
     "nested_identifier", "member_expression", "scope_resolution", "nested_type_identifier",
     "qualified_type", "dotted_name", "namespace_name", "dot_index_expression",
     "method_index_expression", "field_expression"}
)
_TYPE_WRAPPERS = frozenset(
    {"generic_type", "pointer_type", "reference_type", "user_type", "type_spec", "nullable_type",
     "array_type", "slice_type", "parenthesized_type", "template_type", "type"}
)
_DOC_PUNCTUATION = frozenset({"/**", "/*", "/*!", "/**<", "///", "//!", "//", "#", '"""', "'''", "*", "--", "--[["})


def _end_row(node: Node) -> int:
    row, col = node.end_point
    if col == 0 and row > node.start_point[0]:
        return row - 1
    return row


def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


class Walker:
    def __init__(self, spec: LanguageSpec, lines: list[str]) -> None:
        self.spec = spec
        self.lines = lines
        self.keep: set[int] = set()
        self.definitions: list[Definition] = []

    # -- containers -----------------------------------------------------------------------

    def container(self, children: list[Node], scopes: list[tuple[str, str]], depth: int) -> None:
        spec = self.spec
        doc_start = -1  # first row of the comment run right above the current node, or -1
        doc_end = -2
        for node in children:
            t = node.type
            if not node.is_named:
                continue
            if t in spec.comments:
                start = node.start_point[0]
                if doc_start < 0 or start > doc_end + 1:
                    doc_start = start
                doc_end = _end_row(node)
                continue
            if t in spec.attributes:
                self.keep_first(node)
                doc_end = max(doc_end, _end_row(node))
                continue
            adjacent = doc_start >= 0 and node.start_point[0] <= doc_end + 1
            rule = spec.defs.get(t)
            if rule is not None and depth < _MAX_DEPTH and self.definition(node, rule, scopes, depth, None):
                if adjacent:
                    self.keep_doc_row(doc_start)
            elif t in spec.wrappers and depth < _MAX_DEPTH:
                self.wrapper(node, scopes, depth, adjacent and doc_start)
            elif t in spec.imports:
                self.keep_rows(node.start_point[0], min(_end_row(node), node.start_point[0] + _MAX_IMPORT_ROWS))
            else:
                self.keep_first(node)
            doc_start, doc_end = -1, -2

    def wrapper(self, node: Node, scopes: list[tuple[str, str]], depth: int, doc_row: int | bool) -> None:
        self.keep_first(node)
        attach = node.start_point[0] if node.type in self.spec.attach else None
        if attach is not None:
            found = self._attached_definition(node, scopes, depth, attach)
            if found:
                if doc_row is not False and doc_row is not None and doc_row >= 0:
                    self.keep_doc_row(int(doc_row))
                return
        self.container(list(node.children), scopes, depth + 1)

    def _attached_definition(self, node: Node, scopes: list[tuple[str, str]], depth: int, attach: int) -> bool:
        """A decorator/export/template wrapper around one definition: the definition starts where
        the wrapper does. Anything else inside it is kept like a container's members."""
        inner = [c for c in node.named_children if c.type in self.spec.defs]
        if len(inner) != 1:
            return False
        target = inner[0]
        done = False
        for child in node.named_children:
            if child is target or child.id == target.id:
                done = self.definition(child, self.spec.defs[child.type], scopes, depth + 1, attach)
                if not done:
                    self.keep_first(child)
            elif child.type in self.spec.wrappers:
                self.wrapper(child, scopes, depth + 1, False)
            elif child.type not in self.spec.comments:
                self.keep_first(child)
        return done

    # -- definitions ----------------------------------------------------------------------

    def definition(
        self, node: Node, rule: DefRule, scopes: list[tuple[str, str]], depth: int, attach: int | None
    ) -> bool:
        holder = node
        if rule.value:
            value = node.child_by_field_name("value")
            if value is None or value.type not in rule.value:
                return False
            holder = value
        name_node, name, qualifier = self.name(node, rule)
        body = self.body(holder, rule)
        kind = rule.kind
        if rule.keyword_kinds:
            for child in node.children:
                if not child.is_named and child.type in rule.keyword_kinds:
                    kind = rule.keyword_kinds[child.type]
                    break
        if not name and not rule.scope:
            return False
        start = node.start_point[0]
        end = _end_row(node)
        if body is None:
            self.keep_rows(start, min(end, start + _MAX_NO_BODY_ROWS))
            header_end = end
        else:
            prev = body.prev_sibling
            header_end = _end_row(prev) if prev is not None and prev.start_point[0] >= start else start
            if name_node is not None:
                header_end = max(header_end, name_node.start_point[0])
            header_end = min(max(header_end, start), end)
            self.keep_rows(start, header_end)
        if rule.receiver:
            qualifier = qualifier or self.receiver_type(node.child_by_field_name(rule.receiver))
        if name and rule.emit:
            if kind == "function" and (qualifier or (scopes and is_type_kind(scopes[-1][1]))):
                kind = "method"
            parts = [s[0] for s in scopes if s[0]]
            if qualifier:
                parts.append(qualifier)
            parts.append(name)
            self.definitions.append(
                Definition(
                    name=name,
                    qualname=".".join(parts),
                    kind=kind,
                    start_line=(attach if attach is not None else start) + 1,
                    end_line=end + 1,
                    signature_line=(name_node.start_point[0] if name_node is not None else start) + 1,
                    body_line=body.start_point[0] + 1 if body is not None else 0,
                )
            )
        if body is not None:
            if self.spec.doc == "docstring":
                self.docstring(body, header_end)
            if rule.scope and depth < _MAX_DEPTH:
                scope_name = ".".join(p for p in (qualifier, name) if p) if name else ""
                self.container(list(body.children), [*scopes, (scope_name, kind)], depth + 1)
        return True

    def name(self, node: Node, rule: DefRule) -> tuple[Node | None, str, str]:
        """(name node, name, qualifier) of a definition; the qualifier is the owning type named
        in the definition itself (C++ ``Foo::bar``)."""
        spec = rule.name
        if spec.startswith("="):
            return None, spec[1:], ""
        if spec == "declarator":
            target: Node | None = node.child_by_field_name("declarator")
            for _ in range(16):
                if target is None or target.type in _NAME_LEAVES or target.type in _QUALIFIED:
                    break
                target = target.child_by_field_name("declarator") or (
                    target.named_children[0] if target.named_child_count else None
                )
        elif spec.startswith("child:"):
            types = spec[6:].split(",")
            target = next((c for c in node.named_children if c.type in types), None)
        else:
            target = node.child_by_field_name(spec)
        if target is None:
            return None, "", ""
        return (target, *self.split_name(target))

    def split_name(self, node: Node) -> tuple[str, str]:
        for _ in range(8):
            if node.type in _TYPE_WRAPPERS and node.named_child_count:
                node = node.child_by_field_name("type") or node.child_by_field_name("name") or node.named_children[0]
            else:
                break
        text = _text(node)
        if node.type in _QUALIFIED or "::" in text or "\\" in text:
            text = text.split("<", 1)[0]
            parts = [p for p in re.split(r"::|[.:\\]", text) if p.strip()]
            if not parts:
                return "", ""
            return parts[-1].strip(), (parts[-2].strip() if len(parts) > 1 else "")
        text = " ".join(text.split())
        if len(text) > 80 or not text:
            return "", ""
        return text, ""

    def receiver_type(self, receiver: Node | None) -> str:
        """The type named by a Go method receiver ``(r *Recv[T])``."""
        if receiver is None:
            return ""
        node: Node | None = receiver
        for _ in range(8):
            if node is None:
                return ""
            if node.type == "type_identifier":
                return _text(node)
            node = node.child_by_field_name("type") or (node.named_children[-1] if node.named_child_count else None)
        return ""

    def body(self, holder: Node, rule: DefRule) -> Node | None:
        spec = rule.body
        if not spec:
            return None
        if spec.startswith("child:"):
            types = spec[6:].split(",")
            return next((c for c in holder.named_children if c.type in types), None)
        return holder.child_by_field_name(spec)

    # -- kept rows --------------------------------------------------------------------------

    def docstring(self, body: Node, header_end: int) -> None:
        """Python: the first line of a string that opens the body."""
        first = body.named_children[0] if body.named_child_count else None
        if first is None:
            return
        if first.type == "expression_statement" and first.named_child_count:
            first = first.named_children[0]
        if first.type in ("string", "concatenated_string"):
            self.keep_doc_row(first.start_point[0])

    def keep_doc_row(self, row: int) -> None:
        self.keep.add(row)
        if row < len(self.lines) and self.lines[row].strip() in _DOC_PUNCTUATION and row + 1 < len(self.lines):
            self.keep.add(row + 1)

    def keep_first(self, node: Node) -> None:
        self.keep.add(node.start_point[0])

    def keep_rows(self, start: int, end: int) -> None:
        self.keep.update(range(start, end + 1))
