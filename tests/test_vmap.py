"""vmap against an explicit Python loop and np.stack (np.moveaxis for other axes).

Every catalogue function is batched over examples drawn with different seeds,
under several in_axes, on each target; per-example gradients are checked
against a loop over the (separately tested) gradient. The oracle never shares
code with the batching transform: it indexes the inputs and stacks the
outputs with NumPy.
"""

import itertools

import numpy as np
import pytest

import s2sjax
from tests import fd
from tests.catalogue import CASES as STRAIGHT
from tests.catalogue import REGRESSIONS
from tests.catalogue_loops import CASES as LOOPS
from tests.util import define, define_module

CASES = STRAIGHT + LOOPS
BATCH = 3
pytestmark = pytest.mark.filterwarnings("error::s2sjax.NumbaFallbackWarning")


def _examples(case):
    seed = sum(map(ord, case.name))
    return [case.make_args(np.random.default_rng(seed + k)) for k in range(BATCH)]


def _batched(examples, axes):
    """The arguments holding the examples along `axes` (None: the first example's value, shared)."""
    args = []
    for i, axis in enumerate(axes):
        if axis is None:
            args.append(examples[0][i])
        else:
            args.append(np.moveaxis(np.stack([np.asarray(e[i]) for e in examples]), 0, axis))
    return tuple(args)


def _loop(fun, examples, axes):
    """What vmap must return: `fun` per example, in a Python loop, stacked."""
    outputs = []
    for example in examples:
        shared = [examples[0][i] if axis is None else example[i] for i, axis in enumerate(axes)]
        outputs.append(fun(*shared))
    return np.stack(outputs)


def _axes_choices(case):
    """in_axes combinations: None, 0 and -1 per argument, not all None, at most 4.

    In a fixed order.
    """
    ranks = [np.ndim(a) for a in case.make_args(np.random.default_rng(0))]
    per_arg = [[None, 0] + ([-1] if r >= 1 else []) for r in ranks]
    combos = [c for c in itertools.product(*per_arg) if any(a is not None for a in c)]
    step = max(1, len(combos) // 4)
    return combos[::step][:4]


def _check(case, target, axes):
    examples = _examples(case)
    args = _batched(examples, axes)
    got = s2sjax.vmap(case.fun, in_axes=axes, target=target)(*args)
    expected = _loop(case.fun, examples, axes)
    rtol = 1e-5 if case.dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=1e-12, err_msg=f"{case.name} in_axes={axes} [{target}]"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_vmap_all_in_axes_python(case):
    for axes in _axes_choices(case):
        _check(case, "python", axes)


# every compilation costs about a second; the python target covers every case
COMPILED = [c for i, c in enumerate(CASES) if i % 2 == 0 or c.name in REGRESSIONS]


@pytest.mark.parametrize("case", COMPILED, ids=[c.name for c in COMPILED])
def test_vmap_compiled(case):
    nargs = len(case.make_args(np.random.default_rng(0)))
    _check(case, "cpu", (0,) * nargs)


PARALLEL = [c for i, c in enumerate(CASES) if i % 30 == 0 or c.name in REGRESSIONS]


@pytest.mark.parametrize("case", PARALLEL, ids=[c.name for c in PARALLEL])
def test_vmap_parallel(case):
    axes = _axes_choices(case)[-1]
    _check(case, "parallel", axes)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_per_example_gradients_python(case):
    examples = _examples(case)
    nargs = len(examples[0])
    argnums = case.argnums_tuple
    axes = (0,) * nargs
    batched = s2sjax.vmap(
        s2sjax.grad(case.fun, argnums, target="python"), in_axes=axes, target="python"
    )
    got = batched(*_batched(examples, axes))
    per_example = [s2sjax.grad(case.fun, argnums, target="python")(*e) for e in examples]
    expected = [np.stack([g[k] for g in per_example]) for k in range(len(argnums))]
    tol = 1e-5 if case.dtype == "float32" else 1e-12
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol, err_msg=case.name)


# ---- the W5 shape, JAX semantics and composition -----------------------------


def loss(p, x, y):
    return (p[0] * x + p[1] - y) ** 2


RNG = np.random.default_rng(5)
P = np.array([1.5, -0.5])
XS = RNG.uniform(-1, 1, 9)
YS = 2 * XS + 1 + RNG.normal(0, 0.1, 9)


@pytest.mark.parametrize("target", ["python", "cpu", "parallel"])
def test_per_example_gradients_every_target(target):
    got = s2sjax.vmap(s2sjax.grad(loss), in_axes=(None, 0, 0), target=target)(P, XS, YS)
    r = P[0] * XS + P[1] - YS
    np.testing.assert_allclose(got, np.stack([2 * r * XS, 2 * r], axis=1), rtol=1e-13)


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_per_example_gradients_have_their_arguments_dtype(target):
    """As grad alone gives them: a float32 parameter's gradient is float32."""
    p32 = P.astype(np.float32)
    values, grads = s2sjax.vmap(s2sjax.value_and_grad(loss), in_axes=(None, 0, 0), target=target)(
        p32, XS, YS
    )
    expected = [s2sjax.value_and_grad(loss, target=target)(p32, x, y) for x, y in zip(XS, YS)]
    assert grads.dtype == expected[0][1].dtype == np.float32
    np.testing.assert_allclose(grads, np.stack([g for _, g in expected]), rtol=1e-6)
    np.testing.assert_allclose(values, [v for v, _ in expected], rtol=1e-6)


def l1(a, b):
    return np.sum(np.abs(a - b))


@pytest.mark.parametrize("target", ["python", "cpu", "parallel"])
def test_pairwise_distances_by_nested_vmap(target):
    a, b = RNG.uniform(size=(5, 4)), RNG.uniform(size=(6, 4))
    pairwise = s2sjax.vmap(s2sjax.vmap(l1, (None, 0), target=target), (0, None), target=target)
    expected = np.stack([np.stack([l1(x, y) for y in b]) for x in a])
    np.testing.assert_allclose(pairwise(a, b), expected, rtol=1e-13)
    # the other nesting, transposed, agrees (seed 003)
    other = s2sjax.vmap(s2sjax.vmap(l1, (0, None), target=target), (None, 0), target=target)
    np.testing.assert_allclose(other(a, b).T, expected, rtol=1e-13)
    assert s2sjax.source(pairwise).count("def ") == 1  # one function: the inner vmap is inlined


def test_pairwise_rows_of_other_lengths_broadcast_like_numpy():
    a, b = RNG.uniform(size=(3, 4)), RNG.uniform(size=(2, 1))  # rows of length 4 and 1
    got = s2sjax.vmap(s2sjax.vmap(l1, (None, 0)), (0, None))(a, b)
    np.testing.assert_allclose(got, [[l1(x, y) for y in b] for x in a], rtol=1e-13)


def all_pairs(points):
    return np.sum((points[None, :] - points[:, None]) ** 2, -1) ** 0.5


def as_columns(x):
    return np.cos(x[:, None]) * 2.0


# not all_pairs on parallel: Numba's parallel array expressions do not broadcast, which fusion
# works around only where the ranks are known
@pytest.mark.parametrize(
    "target,fun", [("python", all_pairs), ("cpu", all_pairs), ("parallel", as_columns)]
)
def test_an_output_whose_rank_is_found_as_the_code_runs(target, fun):
    """s2sjax's types may not know an output's rank before the code runs (here they did not,
    for indexing with None): the batched output takes it from the first example."""
    points = RNG.uniform(size=(2, 3, 2))
    expected = np.stack([fun(p) for p in points])
    for out_axes in (0, -1):
        got = s2sjax.vmap(fun, out_axes=out_axes, target=target)(points)
        np.testing.assert_allclose(got, np.moveaxis(expected, 0, out_axes), rtol=1e-13)


# one example gives an array, another a scalar: the output's rank depends on the example
RANK_BY_BRANCH = define("""
def rank_by_branch(x):
    if x[0] > 0.0:
        y = x * 2.0
    else:
        y = np.sum(x)
    return y
""")


def test_outputs_of_a_rank_known_only_as_the_code_runs():
    batched = s2sjax.vmap(RANK_BY_BRANCH, target="python")
    np.testing.assert_allclose(
        batched(np.array([[1.0, 2.0], [3.0, 4.0]])), [[2.0, 4.0], [6.0, 8.0]]
    )
    with pytest.raises(
        ValueError,
        match=r"an example's output has shape \(\), the first example's had shape \(2,\)",
    ):
        batched(np.array([[1.0, 2.0], [-3.0, 4.0]]))
    with pytest.raises(ValueError, match="axis 2 is out of bounds for array of dimension 2"):
        s2sjax.vmap(RANK_BY_BRANCH, out_axes=2, target="python")(np.ones((3, 2)))


STEPS = define("""
def halvings(x, limit):
    n = 0
    while x > limit:
        if x > 10.0 * limit:
            x = x / 4.0
        else:
            x = x / 2.0
        n += 1
    return n
""")


@pytest.mark.parametrize("target", ["python", "cpu", "parallel"])
def test_each_example_runs_its_own_branches_and_iterations(target):
    xs = np.array([0.5, 3.0, 100.0, 1e6, 7.0])
    got = s2sjax.vmap(STEPS, in_axes=(0, None), target=target)(xs, 1.0)
    np.testing.assert_array_equal(got, [STEPS(x, 1.0) for x in xs])


def outer(x):
    return np.outer(x, np.sin(x))


@pytest.mark.parametrize("out_axes", [0, 1, 2, -1, -2])
def test_out_axes(out_axes):
    xs = RNG.uniform(size=(4, 3))
    expected = np.moveaxis(np.stack([outer(x) for x in xs]), 0, out_axes)
    for target in ("python", "cpu"):
        np.testing.assert_allclose(
            s2sjax.vmap(outer, out_axes=out_axes, target=target)(xs), expected, rtol=1e-13
        )


def test_in_axes_negative_and_per_argument():
    xs = RNG.uniform(size=(3, 5))
    f = s2sjax.vmap(lambda x, y: np.sum(x * y), in_axes=(-1, 0))
    ys = RNG.uniform(size=(5, 3))
    np.testing.assert_allclose(f(xs, ys), [np.sum(xs[:, k] * ys[k]) for k in range(5)], rtol=1e-13)


def pair_stats(x, y):
    return x + y, x * 2.0 - y


def test_tuple_outputs_with_out_axes_per_output():
    xs = RNG.uniform(size=(4, 3))
    got = s2sjax.vmap(pair_stats, in_axes=(0, None), out_axes=(0, 1))(xs, 1.5)
    np.testing.assert_allclose(got[0], xs + 1.5)
    np.testing.assert_allclose(got[1], (xs * 2.0 - 1.5).T)


def test_unmapped_output_with_out_axes_none():
    f = s2sjax.vmap(lambda x, y: (x + y, y * 2.0), in_axes=(0, None), out_axes=(0, None))
    total, shared = f(np.arange(3.0), 1.0)
    np.testing.assert_allclose(total, [1.0, 2.0, 3.0])
    assert shared == 2.0


def test_output_that_does_not_depend_on_the_mapped_axis_broadcasts():
    got = s2sjax.vmap(lambda x, y: y * 2.0, in_axes=(0, None))(np.arange(3.0), 4.0)
    np.testing.assert_allclose(got, [8.0, 8.0, 8.0])


def test_keyword_arguments_are_mapped_on_axis_0_and_defaults_are_not():
    f = s2sjax.vmap(define("def scaled(x, y, k=2.0):\n    return x * y * k\n"), in_axes=(0,))
    np.testing.assert_allclose(f(np.ones(3), y=np.arange(3.0)), [0.0, 2.0, 4.0])


def test_axis_size_when_nothing_is_mapped():
    got = s2sjax.vmap(lambda x: x * 2.0, in_axes=None, axis_size=3)(1.5)
    np.testing.assert_allclose(got, [3.0, 3.0, 3.0])


def test_tuple_argument_with_a_container_prefix():
    f = s2sjax.vmap(
        define("def affine(wb, x):\n    return wb[0] * x + wb[1]\n"), in_axes=((0, None), 0)
    )
    w, x = RNG.uniform(size=3), RNG.uniform(size=3)
    np.testing.assert_allclose(f((w, 0.5), x), w * x + 0.5, rtol=1e-13)


PAIR_DOT = define("def pair_dot(p, q):\n    return p[0] * q[0] + p[1] * q[1]\n")


def test_nested_vmaps_of_tuples_each_map_their_own_axes():
    ps, qs = (RNG.uniform(size=3), RNG.uniform(size=3)), (RNG.uniform(size=5), RNG.uniform(size=5))
    got = s2sjax.vmap(s2sjax.vmap(PAIR_DOT, in_axes=(None, 0)), in_axes=(0, None))(ps, qs)
    expected = [
        [PAIR_DOT((ps[0][i], ps[1][i]), (qs[0][j], qs[1][j])) for j in range(5)] for i in range(3)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-13)


BATCHED_LOSS = s2sjax.vmap(loss, in_axes=(None, 0, 0))


def batch_loss(p, xs, ys):
    return np.sum(BATCHED_LOSS(p, xs, ys))


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_grad_of_a_function_that_calls_a_vmapped_function(target):
    r = P[0] * XS + P[1] - YS
    got = s2sjax.grad(batch_loss, target=target)(P, XS, YS)
    np.testing.assert_allclose(got, [np.sum(2 * r * XS), np.sum(2 * r)], rtol=1e-12)


def test_jacobian_of_a_vmapped_function():
    jac = s2sjax.jacfwd(s2sjax.vmap(loss, in_axes=(None, 0, 0)))(P, XS, YS)
    r = P[0] * XS + P[1] - YS
    np.testing.assert_allclose(jac, np.stack([2 * r * XS, 2 * r], axis=1), rtol=1e-12)


def test_a_vmap_inside_a_transformed_function_needs_axes_known_without_types():
    batched = s2sjax.vmap(loss, in_axes=(None, -1, 0))

    def caller(p, xs, ys):
        return np.sum(batched(p, xs, ys))

    with pytest.raises(s2sjax.TransformError, match="in_axes of numbers >= 0 or None") as info:
        s2sjax.grad(caller)(P, XS, YS)
    assert "return np.sum(batched(p, xs, ys))" in str(info.value)  # the user's line


# The forms of vmap docs/supported-python.md promises inside a transformed function. The same
# source imported with tests/looped_vmap.py as `s2sjax` is the oracle.
INLINE_SOURCE = """
def squared_distance(x, y):
    return np.sum((x - y) ** 2)


def product_and_sum(x, y):
    return x * y, x + y


ROW_DISTANCES = s2sjax.vmap(squared_distance, in_axes=(None, 0))


def in_axes_with_none(x, ys):
    return np.sum(s2sjax.vmap(squared_distance, in_axes=(None, 0))(x, ys))


def out_axes_1(x, ys):
    return np.sum(
        s2sjax.vmap(np.outer, in_axes=(None, 0), out_axes=1)(x, ys) * np.arange(3.0)[:, None, None]
    )


def outputs_each_with_out_axes(x, ys):
    products, sums = s2sjax.vmap(product_and_sum, in_axes=(None, 0), out_axes=(0, 1))(x, ys)
    return np.sum(products * sums.T)


def nested(x, ys):
    return np.sum(
        s2sjax.vmap(s2sjax.vmap(squared_distance, in_axes=(None, 0)), in_axes=(0, None))(
            ys * x, ys
        )
    )


def of_a_vmapped_global(x, ys):
    return np.sum(s2sjax.vmap(ROW_DISTANCES, in_axes=(0, None))(ys * x, ys))


def lambdas_nested(x, ys):
    return np.sum(s2sjax.vmap(lambda a: s2sjax.vmap(lambda b: squared_distance(a * x, b))(ys))(ys))


def product_and_pair(x, y):
    return x * y, (x + y, x - y)


def nested_tuple_outputs(x, ys):  # was silently wrong: (a, b) was batched as one leaf
    products, (sums, differences) = s2sjax.vmap(product_and_pair, in_axes=(None, 0))(x, ys)
    return np.sum(products) + np.sum(sums * differences)
"""
INLINE = define_module(INLINE_SOURCE, "import numpy as np\nimport s2sjax\n")
LOOPED = define_module(INLINE_SOURCE, "import numpy as np\nimport tests.looped_vmap as s2sjax\n")
INLINE_NAMES = [
    "in_axes_with_none",
    "out_axes_1",
    "outputs_each_with_out_axes",
    "nested",
    "of_a_vmapped_global",
    "lambdas_nested",
    "nested_tuple_outputs",
]
INLINE_X, INLINE_YS = RNG.normal(size=3), RNG.normal(size=(4, 3))


# parallel=True compiles slowly: these run on parallel behind the `sweep` marker
PARALLEL_IN_SWEEP = {
    "out_axes_1",
    "of_a_vmapped_global",
    "lambdas_nested",
    "nested_tuple_outputs",
    "nested",
    "outputs_each_with_out_axes",
}
INLINE_RUNS = [
    pytest.param(
        name,
        target,
        id=f"{name}-{target}",
        marks=[pytest.mark.sweep] if target == "parallel" and name in PARALLEL_IN_SWEEP else [],
    )
    for name in INLINE_NAMES
    for target in ("python", "cpu", "parallel")
]


@pytest.mark.parametrize("name,target", INLINE_RUNS)
def test_a_vmap_written_in_a_transformed_function(name, target):
    """As a plain jit, under grad (against finite differences of the loop) and under jvp."""
    fun, looped = getattr(INLINE, name), getattr(LOOPED, name)
    value = looped(INLINE_X, INLINE_YS)
    assert s2sjax.jit(fun, target=target)(INLINE_X, INLINE_YS) == pytest.approx(value, rel=1e-12)
    gradient = s2sjax.grad(fun, target=target)(INLINE_X, INLINE_YS)
    fd.check_grad(looped, (INLINE_X, INLINE_YS), (0,), (gradient,), rtol=1e-7, atol=1e-9)
    if target == "parallel" and name == "outputs_each_with_out_axes":
        return  # Numba's parfors fail on the JVP of two fused outputs (`out`, `out_1`): not vmap's
    direction = RNG.normal(size=3)
    _, derivative = s2sjax.jvp(
        fun, (INLINE_X, INLINE_YS), (direction, np.zeros_like(INLINE_YS)), target=target
    )
    assert derivative == pytest.approx(float(np.dot(gradient, direction)), rel=1e-10)


INLINE_ERRORS = {
    "def f(x, ys):\n    v = s2sjax.vmap(g)\n    return np.sum(v(ys))\n": (
        "must be called where it is written"
    ),
    "def f(x, ys):\n    return np.sum(s2sjax.vjp(g, x)[1](ys, ys))\n": (
        r"the pullback of s2sjax.vjp inside a transformed function is called with one cotangent"
    ),
    "def f(x, ys):\n    return np.sum(s2sjax.vmap(g)(y=ys))\n": "takes its arguments by position",
    "def f(x, ys):\n    k = 0\n    return np.sum(s2sjax.vmap(g, in_axes=k)(ys))\n": (
        "must be written as constants"
    ),
    "def f(x, ys):\n    return np.sum(s2sjax.vmap(g, in_axes=-1)(ys))\n": (
        "in_axes of numbers >= 0 or None"
    ),
    "def f(x, ys):\n    return np.sum(s2sjax.vmap(g, out_axes=(0, 1))(ys))\n": "tree prefix",
    "def f(x, ys):\n    return np.sum(s2sjax.vmap(lambda y: g(x * y), in_axes=(0, 1))(ys))\n": (
        r"in_axes has 2 entries for a function of 1 parameters \(y\)"
    ),
}


@pytest.mark.parametrize("source", list(INLINE_ERRORS), ids=list(INLINE_ERRORS.values()))
def test_what_a_vmap_written_in_a_transformed_function_refuses_names_the_line(source):
    f = define(
        source,
        "f",
        namespace_setup="import numpy as np\nimport s2sjax\ndef g(y):\n    return np.sin(y)\n",
    )
    with pytest.raises(s2sjax.TransformError, match=INLINE_ERRORS[source]) as info:
        s2sjax.jit(f, target="python")(INLINE_X, INLINE_YS)
    error = info.value
    assert error.filename == f.__code__.co_filename
    assert (
        "s2sjax." in source.splitlines()[error.lineno - f.__code__.co_firstlineno]
    )  # the line of the vmap


def test_a_vmap_written_in_a_transformed_function_maps_a_python_function():
    def caller(x, ys):
        return np.sum(s2sjax.vmap(s2sjax.grad(l1), in_axes=(None, 0))(x, ys))

    with pytest.raises(
        s2sjax.TransformError, match=r"maps a Python function \(or a vmap of one\), not a grad"
    ) as info:
        s2sjax.jit(caller)(INLINE_X, INLINE_YS)
    assert "s2sjax.vmap(s2sjax.grad(l1)" in str(info.value)  # the user's line
    assert "hint: transform the whole computation instead, e.g. vmap(grad(f)) outside" in str(
        info.value
    )


def test_inputs_are_not_modified():
    xs = RNG.uniform(size=(4, 3))
    before = xs.copy()
    s2sjax.vmap(outer)(xs)
    np.testing.assert_array_equal(xs, before)


# ---- errors -------------------------------------------------------------------


@pytest.mark.parametrize("after_a_call", [False, True])
def test_inconsistent_sizes_error_names_each_argument(after_a_call):
    add = s2sjax.vmap(lambda x, y: x + y)
    if after_a_call:  # later calls take the fast path, where the generated code checks the sizes
        np.testing.assert_array_equal(add(np.ones(3), np.ones(3)), np.full(3, 2.0))
    with pytest.raises(
        ValueError,
        match=r"(?s)inconsistent sizes for array axes to be mapped:\n"
        r"  \* one axis had size 3: axis 0 of argument x of type float64\[3\];\n"
        r"  \* one axis had size 4: axis 0 of argument y of type float64\[4\]",
    ):
        add(np.ones(3), np.ones(4))


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_inconsistent_sizes_of_an_inner_vmap(target):
    pairwise_products = s2sjax.vmap(s2sjax.vmap(lambda x, y: x * y), target=target)
    with pytest.raises(ValueError, match="vmap got inconsistent sizes for array axes to be mapped"):
        pairwise_products(np.ones((3, 4)), np.ones((3, 5)))


def test_in_axes_length_must_match_the_positional_arguments():
    with pytest.raises(ValueError, match=r"len\(in_axes\)=2, len\(args\)=1"):
        s2sjax.vmap(lambda x: x, in_axes=(0, 0))(np.ones(3))


def test_in_axes_beyond_the_rank():
    with pytest.raises(
        ValueError,
        match=r"along axis 1, which implies that its rank should be at least 2, but is only 1",
    ):
        s2sjax.vmap(lambda x: x, in_axes=1)(np.ones(3))


def test_in_axes_of_the_wrong_type():
    with pytest.raises(TypeError, match="vmap in_axes must be an int, None, or"):
        s2sjax.vmap(lambda x: x, in_axes="0")


def test_nothing_mapped():
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        s2sjax.vmap(lambda x: x, in_axes=None)(1.0)


def test_mapped_output_with_out_axes_none():
    with pytest.raises(ValueError, match="vmap has mapped output but out_axes is None"):
        s2sjax.vmap(lambda x: x * 2.0, out_axes=None)(np.ones(3))


def test_out_axes_beyond_the_output_rank():
    with pytest.raises(ValueError, match="axis 2 is out of bounds for array of dimension 2"):
        s2sjax.vmap(lambda x: x * 2.0, out_axes=2)(np.ones((3, 4)))


def _pair(x, w):
    return np.sum(x * w), x * 2.0


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_an_empty_axis_gives_empty_outputs_as_in_jax(target):
    double = s2sjax.vmap(lambda x: x * 2.0, target=target)
    # the second call takes the fast path, where the generated code sees the size
    for _ in range(2):
        got = double(np.ones((0, 3), dtype=np.float32))
        assert got.shape == (0, 3) and got.dtype == double(np.ones((1, 3), dtype=np.float32)).dtype
        np.testing.assert_array_equal(double(np.ones(2)), np.full(2, 2.0))
    total, twice = s2sjax.vmap(_pair, in_axes=(1, None), out_axes=(0, 1), target=target)(
        np.ones((3, 0)), np.ones(3)
    )
    assert total.shape == (0,) and twice.shape == (3, 0)
    per_example = s2sjax.vmap(
        s2sjax.grad(lambda p, x: np.sum(p["w"] * x)), in_axes=(None, 0), target=target
    )
    assert per_example({"w": np.ones(3)}, np.ones((0, 3)))["w"].shape == (0, 3)
    unmapped = s2sjax.vmap(lambda w: w * 2.0, in_axes=None, axis_size=0, target=target)
    assert unmapped(np.ones(3)).shape == (0, 3)


def test_an_empty_axis_whose_stand_in_example_fails_says_so():
    fun = define("""
def fun(x):
    return math.log(x - 1.0)
""")
    with pytest.raises(
        ValueError,
        match="over an axis of size 0: .* example of ones, which raised ValueError: "
        "math domain error",
    ):
        s2sjax.vmap(fun, target="python")(np.ones(0))


# ---- jit ------------------------------------------------------------------------


PARTIAL_SUM = define("""
def partial_sum(x, n):
    s = 0.0
    for i in range(n):
        s = s + x[i]
    return s
""")


@pytest.mark.parametrize("target", ["python", "cpu"])
def test_jit_with_a_static_argument(target):
    f = s2sjax.jit(PARTIAL_SUM, static_argnums=1, target=target)
    x = np.arange(6.0)
    assert f(x, 3) == 3.0
    assert f(x, 5) == 10.0  # a new value: a new specialization
    assert "range(0, 5)" in s2sjax.source(f, x, 5)  # the value is compiled in


def test_jit_without_static_arguments_matches_the_function():
    f = s2sjax.jit(lambda x: np.sum(x**2 + 2 * x))
    x = RNG.uniform(size=5)
    np.testing.assert_allclose(f(x), np.sum(x**2 + 2 * x), rtol=1e-13)


def test_jit_composes_with_grad():
    f = s2sjax.grad(s2sjax.jit(lambda x: x**2 + 2 * x))
    assert f(3.0) == 8.0


def test_jit_static_argument_must_be_hashable():
    with pytest.raises(ValueError, match="Non-hashable static arguments are not supported"):
        s2sjax.jit(PARTIAL_SUM, static_argnums=1)(np.ones(3), np.ones(2))
