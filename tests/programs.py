"""Random programs of the supported subset, as source text, for tests/test_fuzz.py.

A program is `def f(x, s):` with `x` an array of 3 floats and `s` a float, made of assignments
of arithmetic and `math`/`np` calls (domains kept safe: bounded functions, divisions by 1 + e²)
on floats, arrays and 3x3 matrices (`np.outer`, `@`, reductions along an axis, rows, elements),
overwrites of earlier variables, `+=`, `if`/`else` on data, `for` loops over `range` with
in-place updates of an array and an early `break`, nested loops filling a matrix, bounded
`while` loops, early `return`s (at the top and inside loops), and calls of a helper. It
returns a float. Hypothesis draws and shrinks them.
"""
from hypothesis import strategies as st

HELPERS = '''
def helper(a, b):
    return a * math.cos(b) + b


def array_helper(v, b):
    return np.tanh(v * b)
'''

SCALAR_CALLS = ("math.sin({})", "math.cos({})", "math.tanh({})", "math.exp(-({0}) * ({0}))", "helper({}, 0.3)")
ARRAY_CALLS = ("np.sin({})", "np.cos({})", "np.tanh({})", "np.exp(-({0}) * ({0}))", "array_helper({}, 0.5)")
REDUCTIONS = ("np.sum({})", "np.mean({})", "({})[0]", "({})[-1]", "np.max({})")
MATRIX_REDUCTIONS = ("np.sum({})", "({})[0, 2]", "np.max({})", "np.mean({})")  # matrix -> scalar
MATRIX_TO_ARRAY = ("np.sum({}, axis=0)", "np.mean({}, axis=1)", "({})[1]", "({}).T[2]")


@st.composite
def expression(draw, names, kind, depth=2):
    """An expression of `kind` ("scalar" or "array") over the variables `names` (name -> kind)."""
    same = [n for n, k in names.items() if k == kind]
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if kind == "scalar" and draw(st.booleans()):
            return repr(draw(st.sampled_from([0.5, 1.5, -0.25, 2.0])))
        counters = sorted(n for n, k in names.items() if k == "int")
        if kind == "scalar" and counters and draw(st.booleans()):  # an element picked by loop counters
            container = draw(st.sampled_from(sorted(n for n, k in names.items() if k in ("array", "matrix"))))
            if names[container] == "matrix":
                return f"{container}[{draw(st.sampled_from(counters))} % 3, {draw(st.sampled_from(counters))} % 3]"
            return f"{container}[{draw(st.sampled_from(counters))} % 3]"
        if same:
            return draw(st.sampled_from(sorted(same)))
    if kind == "matrix" and (depth == 0 or not same or draw(st.booleans())):
        inner = max(depth - 1, 0)
        return f"np.outer({draw(expression(names, 'array', inner))}, {draw(expression(names, 'array', 0))})"
    choice = draw(st.integers(0, 5))
    if choice == 0:
        calls = SCALAR_CALLS if kind == "scalar" else ARRAY_CALLS
        return draw(st.sampled_from(calls)).format(draw(expression(names, kind, depth - 1)))
    if choice == 1 and kind == "scalar" and "array" in names.values():
        return draw(st.sampled_from(REDUCTIONS)).format(draw(expression(names, "array", depth - 1)))
    if choice == 2 and kind != "matrix" and "matrix" in names.values():
        matrix = draw(expression(names, "matrix", depth - 1))
        if kind == "scalar":
            return draw(st.sampled_from(MATRIX_REDUCTIONS)).format(matrix)
        if draw(st.booleans()):
            return f"({matrix}) @ ({draw(expression(names, 'array', depth - 1))})"
        return draw(st.sampled_from(MATRIX_TO_ARRAY)).format(matrix)
    left = draw(expression(names, kind, depth - 1))
    other = draw(st.sampled_from(["scalar", kind] + (["array"] if kind == "matrix" else [])))
    right = draw(expression(names, other, depth - 1))
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    if op == "/":
        return f"({left}) / (1.0 + ({right}) * ({right}))"
    return f"({left}) {op} ({right})"


def final(names):
    """The float a program returns, from the variables defined so far."""
    arrays = [n for n, k in names.items() if k == "array"]
    scalars = [n for n, k in names.items() if k == "scalar"]
    return f"np.sum({arrays[-1]}) * {scalars[-1]} + {scalars[0]}"


@st.composite
def statements(draw, names, depth=1, indent="    "):
    """A few statements, which may define new variables in `names` and overwrite old ones."""
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.integers(0, 8 if depth > 0 else 1))
        if form in (0, 1):  # a new variable, or an overwrite of an old one
            kind = draw(st.sampled_from(["scalar", "array", "matrix"]))
            olds = [n for n, k in names.items() if k == kind and n not in ("x", "s")]
            name = draw(st.sampled_from(olds)) if olds and form == 1 else f"v{len(names)}"
            lines.append(f"{indent}{name} = {draw(expression(names, kind))}")
            names[name] = kind
        elif form == 2:  # if/else on data, both sides defining the same variable
            name = f"v{len(names)}"
            test = draw(expression(names, "scalar", 1))
            kind = draw(st.sampled_from(["scalar", "array", "matrix"]))
            lines += [f"{indent}if {test} > 0.1:",
                      f"{indent}    {name} = {draw(expression(names, kind))}",
                      f"{indent}else:",
                      f"{indent}    {name} = {draw(expression(names, kind))}"]
            names[name] = kind
        elif form == 3:  # a for loop filling an array in place and carrying a sum, maybe leaving early
            buf, acc, i = f"v{len(names)}", f"v{len(names) + 1}", f"i{len(names)}"
            trips = draw(st.integers(1, 4))
            inner = dict(names, **{i: "int"})
            lines += [f"{indent}{buf} = np.zeros(3)", f"{indent}{acc} = 0.0",
                      f"{indent}for {i} in range({trips}):",
                      f"{indent}    {buf}[{i} % 3] = {draw(expression(inner, 'scalar'))}",
                      f"{indent}    {acc} = {acc} * 0.5 + {draw(expression(inner, 'scalar', 1))}"]
            names[buf], names[acc] = "array", "scalar"
            leave = draw(st.sampled_from(["", "break", "return"]))
            if leave:
                lines.append(f"{indent}    if {acc} > 2.5:")
                lines.append(f"{indent}        {'break' if leave == 'break' else 'return ' + final(names)}")
        elif form == 4:  # a while loop with a bounded trip count
            acc, k = f"v{len(names)}", f"k{len(names)}"
            lines += [f"{indent}{acc} = {draw(expression(names, 'scalar', 1))}", f"{indent}{k} = 0",
                      f"{indent}while {k} < {draw(st.integers(1, 3))}:",
                      f"{indent}    {acc} = math.sin({acc}) + {draw(expression(names, 'scalar', 1))}",
                      f"{indent}    {k} += 1"]
            names[acc] = "scalar"
        elif form == 5:  # an augmented assignment
            name = draw(st.sampled_from(sorted(n for n, k in names.items() if k != "int")))
            if name in ("x", "s"):
                continue
            lines.append(f"{indent}{name} += {draw(expression(names, names[name], 1))}")
        elif form == 6:  # nested loops filling a matrix element by element
            buf, i, j = f"v{len(names)}", f"i{len(names)}", f"j{len(names)}"
            inner = dict(names, **{i: "int", j: "int"})
            lines += [f"{indent}{buf} = np.zeros((3, 3))",
                      f"{indent}for {i} in range(3):",
                      f"{indent}    for {j} in range({draw(st.integers(1, 3))}):",
                      f"{indent}        {buf}[{i}, {j}] = {draw(expression(inner, 'scalar'))}"]
            names[buf] = "matrix"
        elif form == 7:  # an early return
            lines += [f"{indent}if {draw(expression(names, 'scalar', 1))} > 0.3:",
                      f"{indent}    return {final(names)}"]
        else:  # a matrix-vector product
            name = f"v{len(names)}"
            lines.append(f"{indent}{name} = ({draw(expression(names, 'matrix', 1))}) @ "
                         f"({draw(expression(names, 'array', 1))})")
            names[name] = "array"
    return lines


@st.composite
def programs(draw):
    """The source of a module defining the helpers and `f(x, s)`."""
    names = {"x": "array", "s": "scalar"}
    body = draw(statements(names))
    body.append(f"    return {final(names)}")
    return HELPERS + "\n\ndef f(x, s):\n" + "\n".join(body) + "\n"
