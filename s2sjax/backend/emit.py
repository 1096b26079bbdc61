"""emit: AST -> source text, the only module that imports astor.

Output is deterministic (the same tree gives byte-identical text) and readable:
comment statements made by `naming.comment` print as `# ...` lines.
"""

import ast
import re

import astor
import gast

from .naming import COMMENT_MARK

_COMMENT_LINE = re.compile(rf"^(\s*){COMMENT_MARK}\((\d+)\)$")


def emit(tree, wrap=True):
    """Source text for a gast tree (a module, function or statement).

    `wrap`: break lines longer than astor's limit (else a statement keeps its one line).
    """
    tree = gast.gast_to_ast(tree)  # a new tree: numbering its comments leaves the caller's alone
    texts = _number_comments(tree)
    source = astor.to_source(tree) if wrap else astor.to_source(tree, pretty_source="".join)
    lines = []
    for line in source.splitlines():
        match = _COMMENT_LINE.match(line)
        lines.append(f"{match.group(1)}# {texts[int(match.group(2))]}".rstrip() if match else line)
    return "\n".join(lines) + "\n"


def _number_comments(tree):
    """Replace each comment's text by its index (short enough that astor never wraps it)."""
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == COMMENT_MARK:
            texts.append(node.args[0].value)
            node.args = [ast.Constant(len(texts) - 1)]
    return texts
