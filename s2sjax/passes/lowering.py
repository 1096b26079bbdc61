"""What the lower stage's passes share: a walk that replaces statements by others.

Each pass (displays, stacking, linalg stacks) says, in `rewrite`, which
statements it replaces and writes their replacements; the walk goes into
the blocks of `if`s and loops, and places every new statement at the
user's line of the one it replaces.
"""

import gast

from ..abstract import Type, of_value
from ..backend.naming import name


class StatementLowering:
    def __init__(self, origins, env, namer):
        self.origins = origins  # id(statement) -> where it came from in the user's code
        self.env = env  # name -> its abstract type
        self.namer = namer
        self.out = []  # the block being written

    def block(self, stmts):
        """`stmts` with the statements `rewrite` replaces replaced, in nested blocks too."""
        saved, self.out = self.out, []
        for stmt in stmts:
            if isinstance(stmt, (gast.If, gast.For, gast.While)):
                stmt.body, stmt.orelse = self.block(stmt.body), self.block(stmt.orelse)
            start = len(self.out)
            if self.rewrite(stmt):
                self.placed_at(stmt, self.out[start:])
            else:
                self.out.append(stmt)
        lowered, self.out = self.out, saved
        return lowered

    def rewrite(self, stmt):
        """Write `stmt`'s replacement (none: drop it) into `self.out` and return True, or return
        False to keep `stmt` as it is."""
        raise NotImplementedError

    def placed_at(self, stmt, new):
        """The `new` statements (and those nested in them) at `stmt`'s line, which is gone."""
        for new_stmt in new:
            for node in gast.walk(new_stmt):
                if isinstance(node, gast.stmt):
                    gast.copy_location(node, stmt)
                    self.origins[id(node)] = self.origins[id(stmt)]
        del self.origins[id(stmt)]  # once `stmt` is gone, a statement made later may get its id

    def define(self, value, typ):
        """A new name of type `typ` assigned `value`, as an atom."""
        new = self.namer.temp()
        self.env[new] = typ
        self.assign(new, value)
        return name(new)

    def assign(self, target, value):
        self.out.append(gast.Assign([name(target, store=True)], value))

    def type_of(self, node):
        if isinstance(node, gast.Name):
            return self.env[node.id]
        if isinstance(node, gast.Constant):
            return of_value(node.value)
        if isinstance(node, gast.Tuple):
            return Type("tuple", 0, tuple(self.type_of(e) for e in node.elts))
        if isinstance(node, gast.Subscript):  # a tuple's element
            return self.type_of(node.value).elts[node.slice.value]
        raise AssertionError(f"no type for {gast.dump(node)}")
