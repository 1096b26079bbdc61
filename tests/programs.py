"""Random programs of the supported subset, as source text, for tests/test_fuzz.py.

A program is `def f(x, s):` with `x` an array of 3 floats and `s` a float, made of assignments
of arithmetic and `math`/`np` calls (domains kept safe: bounded functions, divisions by 1 + e²)
on floats, arrays and 3x3 matrices (`np.outer`, `@`, reductions along an axis, rows, elements),
overwrites of earlier variables, `+=`, `if`/`else` on data, `for` loops over `range` with
in-place updates of an array and an early `break`, nested loops filling a matrix (or sweeping
over it, overwriting its elements), bounded `while` loops, early `return`s (at the top and
inside loops), and calls of a helper. It returns a float. Hypothesis draws and shrinks them.

It also writes the everyday patterns that were once silently wrong, and their neighbours:

- accumulators that start as an int (`acc = 0`, `acc = 1`, `len(x)`, an int on one side of
  an `if`) and take float updates (`+`, `+=`, `*`, `max(acc, v)`) in `for` loops (over a range
  or a held list, nested, with the update under a branch whose other side adds an int), in
  `while` loops and in a helper (`sumsq`, given an array or a list);
- lists and tuples given where NumPy takes an array: reductions, `np.dot`, `np.array` and
  `np.asarray` of displays mixing int and float constants, scalars and array elements, nested
  displays (rows of scalars, rows of arrays), displays held in a variable first, reductions
  with `axis` of `np.array` of displays;
- constructors fed by values that depend on the inputs (`np.full`, `np.full_like`,
  `np.linspace`, `np.arange` with a float start and step, `np.float64`, `float`, `np.array`
  of a scalar);
- `None` and `np.newaxis` in indices;
- slices of length 1 (`(v)[1:2]`) beside arrays of 3, which NumPy broadcasts, and reductions
  of them (a fused loop over the longer arrays must not repeat the short one's elements);
- helpers branching on a constant flag argument (an int or a bool; positional, keyword or
  default) called inside loops, and helpers returning from inside their loop (scalars and arrays);
- string statements between statements, in loops and in a helper;
- loops in loops that each may `break` or `return`; an element stored through one of two
  names for one array (`a = b = np.zeros(3)`, `a = b`), the other read later or not; a
  length-1 slice broadcast beside whole arrays;
- fresh matrices filled in sweeps by rows and elements, overwriting without reading, read
  only after (maybe under a second name); time steps updating an array by slices at fixed
  places from its neighbours, maybe with an overlapping element update;
- in one program in eight (or every program, with `programs(list_indices=True)`): list
  indices (`x[[2, 0, 1]]`, differentiated in every mode; `m[[1], 0]`) and updates at list
  indices (`a[[0, 2]] = v`), the last two computed by jit, jvp and vmap and refused by grad and vjp.


Every array a program makes is float: a display that becomes an array starts with a float,
and `np.full`'s value is a float expression (an int there would make an int array, which a
later `+=` of a float cannot update in Python). A scalar variable that may hold an int
(an int-started accumulator) has the kind "number": used wherever a scalar is, except where
the result must be a float.
"""

from hypothesis import strategies as st

HELPERS = """
def helper(a, b):
    return a * math.cos(b) + b


def array_helper(v, b):
    return np.tanh(v * b)


def scaled(a, flag=0):
    if flag == 0:
        return a
    "only the branch a constant flag takes is kept"
    if flag > 1:
        return a * (0.5 * flag)
    return np.tanh(a)


def flagged(flag, v):
    if flag == 0:
        return v
    out = np.zeros_like(v)
    for i in range(v.shape[0]):
        out[i] = np.sin(v[i]) * flag
    return out


def normed(v, normalize=False):
    if normalize:
        return v / (1.0 + np.sum(v * v))
    return v


def sumsq(v):
    total = 0
    for e in v:
        total = total + e * e
    return total


def pick(v, flag):
    for i in range(2):
        if flag == 1:
            return np.tanh(v)
        v = v * 0.5
    return v


def until_big(v):
    for i in range(3):
        if np.sum(v) > 1.0:
            return v * 0.5
        v = v + 0.25
    return v
"""

SCALAR_CALLS = (
    "math.sin({})",
    "math.cos({})",
    "math.tanh({})",
    "math.exp(-({0}) * ({0}))",
    "helper({}, 0.3)",
    "scaled({}, 2)",
    "scaled({})",
    "scaled({}, flag=1)",
    "pick({}, 0)",
    "pick({}, 1)",
)
ARRAY_CALLS = (
    "np.sin({})",
    "np.cos({})",
    "np.tanh({})",
    "np.exp(-({0}) * ({0}))",
    "array_helper({}, 0.5)",
    "scaled({}, 3)",
    "flagged(0, {})",
    "flagged(2, {})",
    "normed({}, True)",
    "normed({})",
)
ARRAY_RETURNED_FROM_A_LOOP = (
    "pick({}, 0)",
    "pick({}, 1)",
    "until_big({})",
)  # (on arrays; scalars are fine)
REDUCTIONS = ("np.sum({})", "np.mean({})", "({})[0]", "({})[-1]", "np.max({})")
MATRIX_REDUCTIONS = ("np.sum({})", "({})[0, 2]", "np.max({})", "np.mean({})")  # matrix -> scalar
MATRIX_TO_ARRAY = ("np.sum({}, axis=0)", "np.mean({}, axis=1)", "({})[1]", "({}).T[2]")
CONSTANTS = (0.5, 1.5, -0.25, 2.0)
INT_CONSTANTS = (0, 1, 2, 3)
DISPLAY_REDUCTIONS = ("np.sum", "np.mean", "np.prod", "np.max", "np.min")
AXIS_REDUCTIONS = ("np.sum", "np.mean", "np.max", "np.min")
FLAG_CALLS = (
    "flagged(0, {})",
    "flagged(1, {})",
    "flagged(2, {})",
    "scaled({}, 2)",
    "scaled({})",
    "scaled({}, flag=1)",
    "scaled({}, flag=3)",
    "normed({}, True)",
    "normed({}, normalize=True)",
    "normed({})",
    "pick({}, 0)",
    "pick({}, 1)",
)
NOTES = ('"""a note between statements"""', "'a string statement'")


def _of(names, *kinds):
    return sorted(n for n, k in names.items() if k in kinds)


@st.composite
def expression(draw, names, kind, depth=2, floats=False, lists=False):
    """An expression of `kind` ("scalar", "array" or "matrix") over the variables `names`
    (name -> kind). `floats`: the value must be a float (a "scalar" may otherwise be a
    "number", a variable that may hold an int); `lists`: list indices may appear."""
    same = _of(names, kind, *(("number",) if kind == "scalar" and not floats else ()))
    if kind == "array":
        same += [f"{r}[{k}]" for r in _of(names, "rows") for k in range(3)]
    if kind == "scalar":
        same += [
            f"{held}[0]" for held in _of(names, "list")
        ]  # a held list's first element is a float
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if kind == "scalar" and draw(st.booleans()):
            return repr(draw(st.sampled_from(CONSTANTS)))
        counters = _of(names, "int")
        # an element picked by loop counters
        if kind == "scalar" and counters and draw(st.booleans()):
            container = draw(st.sampled_from(_of(names, "array", "matrix")))
            if names[container] == "matrix":
                return (
                    f"{container}[{draw(st.sampled_from(counters))} % 3, "
                    f"{draw(st.sampled_from(counters))} % 3]"
                )
            return f"{container}[{draw(st.sampled_from(counters))} % 3]"
        if same:
            return draw(st.sampled_from(same))
    sub = dict(floats=floats, lists=lists)
    if kind == "matrix" and (depth == 0 or not same or draw(st.booleans())):
        inner = max(depth - 1, 0)
        left, right = (
            draw(expression(names, "array", inner, **sub)),
            draw(expression(names, "array", 0, **sub)),
        )
        return f"np.outer({left}, {right})"
    choice = draw(st.integers(0, 8))
    if choice == 0:
        calls = SCALAR_CALLS if kind == "scalar" else ARRAY_CALLS
        if kind != "scalar":
            calls += ARRAY_RETURNED_FROM_A_LOOP
        return draw(st.sampled_from(calls)).format(draw(expression(names, kind, depth - 1, **sub)))
    if choice == 1 and kind == "scalar" and "array" in names.values():
        reduced = draw(expression(names, "array", depth - 1, **sub))
        return draw(st.sampled_from(REDUCTIONS)).format(draw(maybe_short(reduced)))
    if choice == 2 and kind != "matrix" and "matrix" in names.values():
        matrix = draw(expression(names, "matrix", depth - 1, **sub))
        if kind == "scalar":
            return draw(st.sampled_from(MATRIX_REDUCTIONS)).format(matrix)
        if draw(st.booleans()):
            return f"({matrix}) @ ({draw(expression(names, 'array', depth - 1, **sub))})"
        return draw(st.sampled_from(MATRIX_TO_ARRAY)).format(matrix)
    if choice in (3, 4, 5) and depth > 0:
        return draw(special(names, kind, depth, lists))
    left = draw(expression(names, kind, depth - 1, **sub))
    other = draw(st.sampled_from(["scalar", kind] + (["array"] if kind == "matrix" else [])))
    right = draw(expression(names, other, depth - 1, **sub))
    if kind == "array" and other == "array":
        right = draw(maybe_short(right))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    if op == "/":
        return f"({left}) / (1.0 + ({right}) * ({right}))"
    return f"({left}) {op} ({right})"


@st.composite
def maybe_short(draw, array):
    """`array`, or (one time in five) a slice of it of length 1, which NumPy broadcasts against
    the others: a value that reads only the short array keeps its own length."""
    if draw(st.integers(0, 4)):
        return array
    k = draw(st.integers(0, 2))
    return f"({array})[{k}:{k + 1}]"


@st.composite
def element(draw, names, depth, lists, first=False):
    """An element of a display of scalars: a constant (an int too, but not `first`, which is
    a float so that the display makes a float array), a scalar or an array's element."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return repr(draw(st.sampled_from(CONSTANTS if first else CONSTANTS + INT_CONSTANTS)))
    if choice == 1:
        array = draw(st.sampled_from(_of(names, "array")))
        return f"{array}[{draw(st.integers(-1, 2))}]"
    return draw(expression(names, "scalar", max(depth - 1, 0), floats=first, lists=lists))


@st.composite
def display(draw, names, depth, lists, length=3):
    """A list or tuple display of `length` scalar elements, the first a float."""
    items = [draw(element(names, depth, lists, first=True))]
    items += [draw(element(names, depth, lists)) for _ in range(length - 1)]
    return draw(bracketed(items))


@st.composite
def bracketed(draw, items):
    if draw(st.booleans()):
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ")"


@st.composite
def rows(draw, names, depth, lists, count=3, arrays=False):
    """A display of `count` rows of 3: each an array expression, or (not `arrays`) each a
    display of scalars or a held list."""
    if arrays or draw(st.booleans()):
        items = [
            draw(expression(names, "array", max(depth - 1, 0), lists=lists)) for _ in range(count)
        ]
    else:
        held = _of(names, "list")
        items = [
            draw(st.sampled_from(held))
            if held and draw(st.booleans())
            else draw(display(names, depth - 1, lists))
            for _ in range(count)
        ]
    return draw(bracketed(items))


@st.composite
def special(draw, names, kind, depth, lists):
    """Displays given to NumPy, constructors fed by values, `None` indices and, with `lists`,
    list indices: an expression of `kind`."""
    matrices = _of(names, "matrix")
    held, stacks = _of(names, "list"), _of(names, "rows")
    sub = dict(lists=lists)
    options = ["display", "none"]
    if held or stacks:
        options.append("held")
    if lists:
        options.append("list index")
    if kind != "scalar":
        options.append("constructor")
    else:
        options += ["float64", "array display", "sumsq"]
    how = "list index" if lists and draw(st.booleans()) else draw(st.sampled_from(options))
    k = draw(st.integers(0, 2))
    if kind == "scalar":
        if _of(names, "index") and draw(st.booleans()):  # a held tuple as an index
            matrix = draw(expression(names, "matrix", depth - 1, **sub))
            return f"({matrix})[{draw(st.sampled_from(_of(names, 'index')))}]"
        if how == "display":
            reduction = draw(st.sampled_from(DISPLAY_REDUCTIONS))
            if draw(st.integers(0, 3)) == 0:  # nested: 2 rows of 2
                first, second = (
                    draw(display(names, depth, lists, 2)),
                    draw(display(names, depth, lists, 2)),
                )
                return f"{reduction}([{first}, {second}])"
            if draw(st.booleans()):
                array = draw(expression(names, "array", depth - 1, **sub))
                pair = [draw(display(names, depth, lists)), f"({array})"]
                if draw(st.booleans()):
                    return f"({' @ '.join(draw(st.permutations(pair)))})"
                return f"np.dot({', '.join(draw(st.permutations(pair)))})"
            return f"{reduction}({draw(display(names, depth, lists, draw(st.integers(2, 3))))})"
        if how == "array display":
            reduction = draw(st.sampled_from(("np.sum", "np.mean", "np.max")))
            return f"{reduction}({draw(rows(names, depth, lists, draw(st.integers(2, 3))))})"
        if how == "float64":  # a float (or a 0-d array) of a scalar that may be an int
            convert = draw(st.sampled_from(("np.float64", "float", "np.array")))
            operand = draw(
                expression(names, "scalar", depth - 1, floats=convert == "np.array", **sub)
            )
            return f"{convert}({operand})"
        # a helper with an int-started accumulator, looping over an array or a list
        if how == "sumsq":
            if draw(st.booleans()):
                return f"sumsq({draw(expression(names, 'array', depth - 1, **sub))})"
            return f"sumsq({draw(display(names, depth, lists, draw(st.integers(2, 3))))})"
        if how == "held":
            if held and (not stacks or draw(st.booleans())):
                name = draw(st.sampled_from(held))
                if draw(st.booleans()):
                    return f"np.dot({name}, {draw(expression(names, 'array', depth - 1, **sub))})"
                return f"{draw(st.sampled_from(DISPLAY_REDUCTIONS))}({name})"
            return (
                f"{draw(st.sampled_from(('np.sum', 'np.mean', 'np.max')))}"
                f"({draw(st.sampled_from(stacks))})"
            )
        if how == "none":
            array = draw(expression(names, "array", depth - 1, **sub))
            return draw(
                st.sampled_from(
                    (f"({array})[None, :][0, {k}]", f"({array})[:, np.newaxis][{k}, 0]")
                )
            )
        index = draw(st.sampled_from(("[[0, 2]]", "[[2, 0, 1]]", "[[1, 1]]")))  # a list index
        if matrices and draw(st.booleans()):
            matrix = draw(expression(names, "matrix", depth - 1, **sub))
            return draw(st.sampled_from((f"np.sum(({matrix}){index})", f"({matrix})[[{k}], 0][0]")))
        array = draw(expression(names, "array", depth - 1, **sub))
        return draw(st.sampled_from((f"np.sum(({array}){index})", f"({array})[[2, 0, 1]][{k}]")))
    scalar = draw(expression(names, "scalar", depth - 1, floats=True, **sub))
    if kind == "array":
        if how == "display":
            shape = draw(st.sampled_from(("array", "reduce rows", "reduce columns", "dot")))
            if shape == "array":
                return (
                    f"{draw(st.sampled_from(('np.array', 'np.asarray')))}"
                    f"({draw(display(names, depth, lists))})"
                )
            if shape == "reduce rows":  # rows of arrays, reduced along axis 0
                inner = draw(rows(names, depth, lists, draw(st.integers(2, 3))))
                if draw(st.booleans()):
                    inner = f"np.array({inner})"
                return f"{draw(st.sampled_from(AXIS_REDUCTIONS))}({inner}, axis=0)"
            if shape == "reduce columns":  # 3 rows of 2 scalars, reduced along axis 1
                inner = ", ".join(draw(display(names, depth - 1, lists, 2)) for _ in range(3))
                return f"{draw(st.sampled_from(AXIS_REDUCTIONS))}(np.array([{inner}]), axis=1)"
            pair = [
                draw(display(names, depth, lists)),
                f"({draw(expression(names, 'matrix', depth - 1, **sub))})",
            ]
            if draw(st.booleans()):
                return " @ ".join(draw(st.permutations(pair)))
            return f"np.dot({', '.join(draw(st.permutations(pair)))})"
        if how == "constructor":
            constructor = draw(
                st.sampled_from(("full", "full_like", "linspace", "arange", "arange of a value"))
            )
            if constructor == "full":
                return draw(st.sampled_from((f"np.full(3, {scalar})", f"np.full((3,), {scalar})")))
            if constructor == "full_like":
                return (
                    f"np.full_like({draw(expression(names, 'array', depth - 1, **sub))}, {scalar})"
                )
            if constructor == "linspace":
                return (
                    f"np.linspace({scalar}, "
                    f"{draw(expression(names, 'scalar', depth - 1, **sub))}, 3)"
                )
            if constructor == "arange":  # 3 elements: 2.5 / 1.0 rounds up to 3
                return f"np.arange({scalar}, ({scalar}) + 2.5, 1.0)"
            step = f"0.9 + 0.05 * math.tanh({draw(expression(names, 'scalar', depth - 1, **sub))})"
            # 2.5 / step is 2.6 to 2.9: 3 elements
            return f"np.arange({scalar}, ({scalar}) + 2.5, {step})"
        if how == "held":
            if held and (not stacks or draw(st.booleans())):
                return f"np.array({draw(st.sampled_from(held))})"
            stack = draw(st.sampled_from(stacks))
            return draw(
                st.sampled_from(
                    (
                        f"np.mean({stack}, axis=0)",
                        f"np.array({stack})[{k}]",
                        f"np.sum({stack}, axis=0)",
                    )
                )
            )
        if how == "none":
            if matrices and draw(st.booleans()):
                matrix = draw(expression(names, "matrix", depth - 1, **sub))
                return draw(
                    st.sampled_from(
                        (f"({matrix})[None][0, {k}]", f"({matrix})[:, None, :][{k}, 0]")
                    )
                )
            array = draw(expression(names, "array", depth - 1, **sub))
            return draw(
                st.sampled_from((f"({array})[None, :][0]", f"({array})[:, np.newaxis][:, 0]"))
            )
        if matrices and draw(st.booleans()):
            matrix = draw(expression(names, "matrix", depth - 1, **sub))
            return draw(st.sampled_from((f"({matrix})[[1, 2]][0]", f"({matrix})[[2, 0, 1], {k}]")))
        array = draw(expression(names, "array", depth - 1, **sub))
        return f"({array}){draw(st.sampled_from(('[[2, 0, 1]]', '[[0, 0, 2]]')))}"
    # a matrix
    if how == "display":
        return f"np.array({draw(rows(names, depth, lists))})"
    if how == "constructor":
        if draw(st.booleans()):
            return f"np.full_like({draw(expression(names, 'matrix', depth - 1, **sub))}, {scalar})"
        return f"np.full((3, 3), {scalar})"
    if how == "held":
        if stacks and (not held or draw(st.booleans())):
            return f"np.array({draw(st.sampled_from(stacks))})"
        return f"np.array([{', '.join(draw(st.sampled_from(held)) for _ in range(3))}])"
    if how == "none":
        if matrices and draw(st.booleans()):
            matrix = draw(expression(names, "matrix", depth - 1, **sub))
            if draw(st.booleans()):
                return f"({matrix})[None][0]"
            return f"({draw(expression(names, 'array', depth - 1, **sub))})[None, :] + ({matrix})"
        left, right = (draw(expression(names, "array", depth - 1, **sub)) for _ in range(2))
        return f"({left})[:, None] * ({right})[np.newaxis, :]"
    matrix = draw(expression(names, "matrix", depth - 1, **sub))
    return f"({matrix}){draw(st.sampled_from(('[[2, 0, 1]]', '[[0, 0, 1]]')))}"


def final(names):
    """The float a program returns, from the variables defined so far."""
    arrays = [n for n, k in names.items() if k == "array"]
    scalars = [n for n, k in names.items() if k in ("scalar", "number")]
    return f"np.sum({arrays[-1]}) * {scalars[-1]} + {scalars[0]}"


@st.composite
def statements(draw, names, depth=1, indent="    ", lists=False):
    """A few statements, which may define new variables in `names` and overwrite old ones."""
    sub = dict(lists=lists)
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.integers(0, 19 if depth > 0 else 1))
        if form in (0, 1):  # a new variable, or an overwrite of an old one
            kind = draw(st.sampled_from(["scalar", "array", "matrix"]))
            olds = [n for n, k in names.items() if k == kind and n not in ("x", "s")]
            name = draw(st.sampled_from(olds)) if olds and form == 1 else f"v{len(names)}"
            lines.append(f"{indent}{name} = {draw(expression(names, kind, floats=True, **sub))}")
            names[name] = kind
        elif form == 2:  # if/else on data, both sides defining the same variable
            name = f"v{len(names)}"
            test = draw(expression(names, "scalar", 1, **sub))
            kind = draw(st.sampled_from(["scalar", "array", "matrix"]))
            value = expression(names, kind, floats=True, **sub)
            lines += [
                f"{indent}if {test} > 0.1:",
                f"{indent}    {name} = {draw(value)}",
                f"{indent}else:",
                f"{indent}    {name} = {draw(value)}",
            ]
            names[name] = kind
        # a for loop filling an array in place and carrying a sum, maybe leaving early
        elif form == 3:
            buf, acc, i = f"v{len(names)}", f"v{len(names) + 1}", f"i{len(names)}"
            trips = draw(st.integers(1, 4))
            inner = dict(names, **{i: "int"})
            lines += [
                f"{indent}{buf} = np.zeros(3)",
                f"{indent}{acc} = {draw(st.sampled_from(['0.0', '0']))}",
                f"{indent}for {i} in range({trips}):",
                f"{indent}    {buf}[{i} % 3] = {draw(expression(inner, 'scalar', **sub))}",
                f"{indent}    {acc} = {acc} * 0.5 + {draw(expression(inner, 'scalar', 1, **sub))}",
            ]
            names[buf], names[acc] = "array", "scalar"
            leave = draw(st.sampled_from(["", "break", "return"]))
            if leave:
                lines.append(f"{indent}    if {acc} > 2.5:")
                lines.append(
                    f"{indent}        {'break' if leave == 'break' else 'return ' + final(names)}"
                )
        elif form == 4:  # a while loop with a bounded trip count, from a float or an int
            acc, k = f"v{len(names)}", f"k{len(names)}"
            start = draw(st.sampled_from(["expression", "0", "1"]))
            start = (
                draw(expression(names, "scalar", 1, floats=True, **sub))
                if start == "expression"
                else start
            )
            test = f"{k} < {draw(st.integers(1, 3))}"
            if draw(st.integers(0, 3)) == 0:  # and on data
                test += f" and {acc} < 2.0"
            lines += [
                f"{indent}{acc} = {start}",
                f"{indent}{k} = 0",
                f"{indent}while {test}:",
                f"{indent}    {acc} = math.sin({acc}) + "
                f"{draw(expression(names, 'scalar', 1, **sub))}",
                f"{indent}    {k} += 1",
            ]
            names[acc] = "scalar"
        elif form == 5:  # an augmented assignment
            name = draw(st.sampled_from(_of(names, "scalar", "number", "array", "matrix")))
            if name in ("x", "s"):
                continue
            kind = names[name]
            value = draw(expression(names, "scalar" if kind == "number" else kind, 1, **sub))
            lines.append(f"{indent}{name} += {value}")
        elif form == 6 and draw(st.booleans()):  # nested loops filling a matrix element by element
            buf, i, j = f"v{len(names)}", f"i{len(names)}", f"j{len(names)}"
            inner = dict(names, **{i: "int", j: "int"})
            lines += [
                f"{indent}{buf} = np.zeros((3, 3))",
                f"{indent}for {i} in range(3):",
                f"{indent}    for {j} in range({draw(st.integers(1, 3))}):",
                f"{indent}        {buf}[{i}, {j}] = {draw(expression(inner, 'scalar', **sub))}",
            ]
            names[buf] = "matrix"
        elif form == 6:
            lines += draw(sweeps(names, indent, lists))
        elif form == 7:  # an early return
            lines += [
                f"{indent}if {draw(expression(names, 'scalar', 1, **sub))} > 0.3:",
                f"{indent}    return {final(names)}",
            ]
        elif form == 8:  # a matrix-vector product
            name = f"v{len(names)}"
            lines.append(
                f"{indent}{name} = ({draw(expression(names, 'matrix', 1, **sub))}) @ "
                f"({draw(expression(names, 'array', 1, **sub))})"
            )
            names[name] = "array"
        elif form == 9:
            lines += draw(int_accumulator(names, indent, lists))
        elif form == 10:
            lines += draw(int_joined(names, indent, lists))
        elif form == 11:  # a display held in a variable, given to NumPy later
            if draw(st.integers(0, 3)) == 0:
                name = f"v{len(names)}"
                lines.append(
                    f"{indent}{name} = ({draw(st.integers(-3, 2))}, {draw(st.integers(-3, 2))})"
                )
                names[name] = "index"
                continue
            stack = draw(st.booleans())
            kind = "rows" if stack else "list"
            olds = _of(names, kind)
            name = (
                draw(st.sampled_from(olds))
                if olds and draw(st.integers(0, 2)) == 0
                else f"v{len(names)}"
            )
            value = draw(
                rows(names, 2, lists, 3, arrays=True) if stack else display(names, 2, lists)
            )
            lines.append(f"{indent}{name} = {value}")
            names[name] = kind
        elif form == 12:
            lines += draw(flags_in_loop(names, indent, lists))
        elif form == 13:
            lines.append(f"{indent}{draw(st.sampled_from(NOTES))}")
        elif form == 15:
            lines += draw(nested_exits(names, indent, lists))
        elif form == 16:
            lines += draw(store_through_a_copy(names, indent, lists))
        elif form == 17:  # a length-1 slice broadcast beside whole arrays
            name, array = f"v{len(names)}", draw(expression(names, "array", 1, **sub))
            lines.append(
                f"{indent}{name} = np.sin(({array})[:1]) * "
                f"({draw(expression(names, 'array', 1, **sub))}) + ({array})[:1]"
            )
            names[name] = "array"
        elif form == 18:
            lines += draw(fresh_fills(names, indent, lists))
        elif form == 19:
            lines += draw(slice_steps(names, indent, lists))
        elif form == 14 and lists:  # an update at a list of indices
            buf = f"v{len(names)}"
            lines.append(
                f"{indent}{buf} = "
                f"{draw(st.sampled_from(['np.zeros(3)', 'np.ones(3)', 'np.copy(x)']))}"
            )
            if draw(st.booleans()):
                index, value = "[[2, 0, 1]]", draw(expression(names, "array", 1, **sub))
            else:
                index = draw(st.sampled_from(["[[0, 2]]", "[[1, 1]]"]))
                value = draw(expression(names, "scalar", 1, **sub))
            lines.append(f"{indent}{buf}[{index}] = {value}")
            names[buf] = "array"
    return lines


@st.composite
def nested_exits(draw, names, indent, lists):
    """A loop in a loop, each of which may `break` or `return` (each keeps its own exit)."""
    acc, i, j = f"v{len(names)}", f"i{len(names)}", f"j{len(names)}"
    inner = dict(names, **{i: "int", j: "int"})
    step = draw(expression(inner, "scalar", 1, lists=lists))
    names[acc] = "scalar"
    leaves = [draw(st.sampled_from(["break", "return " + final(names)])) for _ in range(2)]
    return [
        f"{indent}{acc} = 0.0",
        f"{indent}for {i} in range({draw(st.integers(1, 3))}):",
        f"{indent}    for {j} in range({draw(st.integers(1, 3))}):",
        f"{indent}        {acc} = {acc} * 0.5 + {step}",
        f"{indent}        if {acc} > 2.5:",
        f"{indent}            {leaves[0]}",
        f"{indent}    if {acc} > 1.5:",
        f"{indent}        {leaves[1]}",
    ]


@st.composite
def store_through_a_copy(draw, names, indent, lists):
    """An element stored through one of two names for one array (`a = b = np.zeros(3)`, or
    `a = b`): refused where the other name is read later, else as in Python."""
    copy, original = f"v{len(names)}", f"v{len(names) + 1}"
    if draw(st.booleans()):
        lines = [f"{indent}{copy} = {original} = np.zeros(3)"]
    else:
        lines = [f"{indent}{original} = np.zeros(3)", f"{indent}{copy} = {original}"]
    value = draw(expression(names, "scalar", 1, lists=lists))
    lines.append(f"{indent}{copy}[{draw(st.integers(-3, 2))}] = {value}")
    # the name registered last is the one the program returns
    for name in draw(st.permutations([copy, original])):
        names[name] = "array"
    return lines


@st.composite
def sweeps(draw, names, indent, lists):
    """Sweeps of a loop nest over a matrix, each overwriting element by element what the last
    wrote, reading the old element, a neighbour written in this sweep, and maybe a `while`'s;
    maybe a sum carried through the nest, a branch on an element, the matrix read whole after."""
    buf, acc = f"v{len(names)}", f"v{len(names) + 1}"
    k, i, j = f"k{len(names)}", f"i{len(names)}", f"j{len(names)}"
    inner = dict(names, **{i: "int", j: "int"})
    value = draw(expression(inner, "scalar", 1, lists=lists))
    stop = draw(st.sampled_from(["3", f"{i} + 1"]))
    body = indent + "            "
    lines = [
        f"{indent}{buf} = np.zeros((3, 3))",
        f"{indent}{acc} = 0.0",
        f"{indent}for {k} in range({draw(st.integers(1, 3))}):",
        f"{indent}    for {i} in range(3):",
        f"{indent}        for {j} in range(1, {stop}):",
        f"{body}{buf}[{i}, {j}] = 0.5 * {buf}[{i}, {j}] * {buf}[{i}, {j} - 1] + {value}",
    ]
    form = draw(st.integers(0, 3))
    if form == 1:  # a sum carried through the nest
        lines.append(f"{body}{acc} = {acc} * 0.5 + {buf}[{i}, {j}]")
    elif form == 2:  # a branch on an element
        lines += [f"{body}if {buf}[{i}, {j}] > 0.1:", f"{body}    {acc} = {acc} + {buf}[{i}, 0]"]
    elif form == 3:  # a while loop updating the same matrix
        w = f"w{len(names)}"
        lines += [
            f"{indent}        {w} = 0",
            f"{indent}        while {w} < 2:",
            f"{indent}            {buf}[{i}, 0] = {buf}[{i}, 0] * 0.5 + {buf}[{i}, {w} + 1]",
            f"{indent}            {w} += 1",
        ]
    if draw(st.booleans()):  # the matrix read whole after its writes
        lines.append(f"{indent}    {acc} = {acc} + np.sum({buf} * {buf})")
    names[buf], names[acc] = "matrix", "scalar"
    return lines


@st.composite
def fresh_fills(draw, names, indent, lists):
    """A fresh matrix filled in sweeps, by rows (slices) and by elements, each write
    overwriting what the last wrote without reading it; read only after, maybe under a second
    name: its overwritten values need no tape."""
    buf, k, i, j = f"v{len(names)}", f"k{len(names)}", f"i{len(names)}", f"j{len(names)}"
    inner = dict(names, **{k: "int", i: "int", j: "int"})
    body = indent + "        "
    lines = [
        f"{indent}{buf} = np.zeros((3, 3))",
        f"{indent}for {k} in range({draw(st.integers(1, 3))}):",
        f"{indent}    for {i} in range(3):",
    ]
    if draw(st.booleans()):
        lines.append(f"{body}{buf}[{i}] = {draw(expression(inner, 'array', 1, lists=lists))}")
    lines += [
        f"{body}for {j} in range({draw(st.integers(1, 3))}):",
        f"{body}    {buf}[{i}, {j}] = {draw(expression(inner, 'scalar', 1, lists=lists))}",
    ]
    names[buf] = "matrix"
    if draw(st.booleans()):
        copy = f"v{len(names)}"
        lines.append(f"{indent}{copy} = {buf}")
        names[copy] = "matrix"
    return lines


@st.composite
def slice_steps(draw, names, indent, lists):
    """Time steps updating an array by slices at fixed places, each reading its neighbours
    (the values the step overwrites too), maybe an overlapping element update after."""
    buf, t = f"v{len(names)}", f"t{len(names)}"
    step = draw(
        st.sampled_from(
            [
                "{b}[1:] = 0.5 * ({b}[:-1] + {b}[1:]) * ({e})",
                "{b}[:-1] = np.sin({b}[1:]) * {b}[:-1] + ({e})",
                "{b}[1:2] = {b}[:1] * {b}[2:] + ({e})",
            ]
        )
    )
    start = draw(st.sampled_from(["np.copy(x)", "np.zeros(3)", "np.ones(3)"]))
    lines = [
        f"{indent}{buf} = {start}",
        f"{indent}for {t} in range({draw(st.integers(1, 3))}):",
        f"{indent}    {step.format(b=buf, e=draw(expression(names, 'scalar', 1, lists=lists)))}",
    ]
    if draw(st.booleans()):
        value = draw(expression(names, "scalar", 1, lists=lists))
        lines.append(f"{indent}    {buf}[1] = {buf}[1] * ({value})")
    names[buf] = "array"
    return lines


@st.composite
def int_accumulator(draw, names, indent, lists):
    """`acc = 0` (or 1) before a for loop, maybe two deep, that gives it float updates,
    maybe under a branch whose other side adds an int."""
    acc, i, j = f"v{len(names)}", f"i{len(names)}", f"j{len(names)}"
    start = draw(st.sampled_from(["0", "1", "len(x)"]))
    lines = [f"{indent}{acc} = {start}"]
    held = _of(names, "list") + [None]  # None: over a display written in the loop's head
    # over a held list's elements (a loop over a container: unrolled)
    if held and draw(st.integers(0, 2)) == 0:
        item = f"e{len(names)}"
        container = draw(st.sampled_from(held))
        lines.append(
            f"{indent}for {item} in "
            f"{container or draw(display(names, 1, lists, draw(st.integers(2, 3))))}:"
        )
        inner = dict(names, **{item: "number"})
    else:
        lines.append(f"{indent}for {i} in range({draw(st.integers(1, 3))}):")
        inner = dict(names, **{i: "int"})
    body = indent + "    "
    if draw(st.booleans()):  # nested
        ranges = ["2", f"{i} + 1", f"3 - {i}"] if i in inner else ["2"]
        lines.append(f"{body}for {j} in range({draw(st.sampled_from(ranges))}):")
        inner[j] = "int"
        body += "    "
    if draw(st.integers(0, 3)) == 0:
        lines.append(f"{body}{draw(st.sampled_from(NOTES))}")
    value = draw(expression(inner, "scalar", 1, floats=True, lists=lists))
    if i not in inner and draw(st.booleans()):
        value = f"{item} * ({value})"
    update = draw(
        st.sampled_from(
            [
                f"{acc} = {acc} + {value}",
                f"{acc} += {value}",
                f"{acc} = {acc} * 0.5 + {value}",
                f"{acc} = {acc} * ({value})",
                f"{acc} = {acc} - {value}",
                f"{acc} = max({acc}, {value})",
            ]
        )
    )
    branch = draw(st.integers(0, 2))
    if branch:
        lines.append(f"{body}if {draw(expression(inner, 'scalar', 1, lists=lists))} > 0.1:")
        lines.append(f"{body}    {update}")
        if branch == 2:
            lines += [
                f"{body}else:",
                f"{body}    {draw(st.sampled_from([f'{acc} = {acc} + 1', f'{acc} += 2']))}",
            ]
    else:
        lines.append(f"{body}{update}")
    names[acc] = "number"  # an int if no float update ran
    return lines


@st.composite
def int_joined(draw, names, indent, lists):
    """An int on one side of an `if`, a float on the other (or from an update under it)."""
    name = f"v{len(names)}"
    test = f"if {draw(expression(names, 'scalar', 1, lists=lists))} > 0.1:"
    value = draw(expression(names, "scalar", 1, floats=True, lists=lists))
    form = draw(st.integers(0, 2))
    if form == 0:
        int_first = draw(st.booleans())
        sides = ["0", value] if int_first else [value, "1"]
        lines = [
            f"{indent}{test}",
            f"{indent}    {name} = {sides[0]}",
            f"{indent}else:",
            f"{indent}    {name} = {sides[1]}",
        ]
    elif form == 1:
        start = draw(st.sampled_from(["0", "1"]))
        lines = [f"{indent}{name} = {start}", f"{indent}{test}", f"{indent}    {name} = {value}"]
    else:
        lines = [
            f"{indent}{name} = 0",
            f"{indent}{test}",
            f"{indent}    {name} += {value}",
            f"{indent}else:",
            f"{indent}    {name} = {name} - 1",
        ]
    names[name] = "number"
    return lines


@st.composite
def flags_in_loop(draw, names, indent, lists):
    """A variable updated in a loop by helpers given constant flags."""
    kind = draw(st.sampled_from(["array", "matrix", "scalar"]))
    olds = [n for n in _of(names, kind) if n not in ("x", "s")]
    lines = []
    if olds and draw(st.booleans()):
        name = draw(st.sampled_from(olds))
    else:
        name = f"v{len(names)}"
        lines.append(
            f"{indent}{name} = {draw(expression(names, kind, 1, floats=True, lists=lists))}"
        )
        names[name] = kind
    i = f"i{len(names)}"
    lines.append(f"{indent}for {i} in range({draw(st.integers(1, 3))}):")
    calls = [c for c in FLAG_CALLS if kind != "scalar" or c.startswith(("scaled", "pick"))]
    for _ in range(draw(st.integers(1, 3))):
        call = draw(st.sampled_from(calls)).format(name)
        if draw(st.integers(0, 2)) == 0:
            extra = draw(expression(dict(names, **{i: "int"}), kind, 1, floats=True, lists=lists))
            call = f"0.5 * {call} + ({extra})"
        lines.append(f"{indent}    {name} = {call}")
    return lines


@st.composite
def programs(draw, list_indices=None):
    """The source of a module defining the helpers and `f(x, s)`. `list_indices`: whether list
    indices may appear (None: drawn, one program in eight)."""
    lists = draw(st.integers(0, 7)) == 0 if list_indices is None else list_indices
    names = {"x": "array", "s": "scalar"}
    body = draw(statements(names, lists=lists))
    body.append(f"    return {final(names)}")
    return HELPERS + "\n\ndef f(x, s):\n" + "\n".join(body) + "\n"
