"""Containers (tuples, lists, dicts, nested) as arguments of every transformation.

Gradients keep their argument's structure and are checked leaf by leaf against
float64 finite differences; vmap against a Python loop; jvp against vjp by the
dot-product test.
"""

import math

import numpy as np
import pytest

import s2sjax
from s2sjax import TransformError
from s2sjax.pytree import (
    leaf_paths,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

from .conftest import seeded_rng
from .fd import numerical_grad
from .util import define

TARGETS = ["python", "cpu"]
RNG = seeded_rng("containers")


def fd_tree(fun, args, argnum):
    """The finite-difference gradient of `fun` w.r.t. the container `args[argnum]`, leaf by leaf."""
    leaves, treedef = tree_flatten(args[argnum])

    def at(k):
        def with_leaf(leaf):
            changed = list(leaves)
            changed[k] = leaf
            return fun(*args[:argnum], tree_unflatten(treedef, changed), *args[argnum + 1 :])

        return with_leaf

    return tree_unflatten(
        treedef, [numerical_grad(at(k), (leaf,), 0) for k, leaf in enumerate(leaves)]
    )


def assert_tree_close(got, want, rtol=1e-8, atol=1e-10):
    assert tree_structure(got) == tree_structure(want), (tree_structure(got), tree_structure(want))
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ---- pytree utilities ------------------------------------------------------------


def test_flatten_unflatten_keeps_types_and_dict_order():
    tree = {"z": [1.0, (2.0, np.ones(2))], "a": None, "m": (3.0,)}
    leaves, treedef = tree_flatten(tree)
    assert [np.shape(x) for x in leaves] == [(), (), (2,), ()]
    rebuilt = tree_unflatten(treedef, leaves)
    assert list(rebuilt) == ["z", "a", "m"] and rebuilt["a"] is None
    assert (
        type(rebuilt["z"]) is list
        and type(rebuilt["z"][1]) is tuple
        and type(rebuilt["m"]) is tuple
    )
    assert leaf_paths(treedef, "p") == ["p['z'][0]", "p['z'][1][0]", "p['z'][1][1]", "p['m'][0]"]


def test_tree_map_over_several_trees_and_its_errors():
    params = [(1.0, np.array([1.0, 2.0])), {"b": 3.0}]
    grads = [(0.5, np.array([2.0, 2.0])), {"b": 1.0}]
    new = tree_map(lambda p, g: p - 0.5 * g, params, grads)
    assert new[0][0] == 0.75 and new[1]["b"] == 2.5
    np.testing.assert_array_equal(new[0][1], [0.0, 1.0])
    with pytest.raises(ValueError, match="different structures"):
        tree_map(lambda p, g: p, params, [(0.5, 1.0)])
    with pytest.raises(ValueError, match="has 3 leaves, but 2 were given"):
        tree_unflatten(tree_structure(params), [1.0, 2.0])
    assert s2sjax.tree_map is tree_map and s2sjax.tree_flatten is tree_flatten


# ---- gradients in the structure of their arguments --------------------------------

SEED_5 = define("""
def f(x):
    return x[0] - 2 * math.cos(x[1]) + 4 * x[2] * x[2]
""")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("container", [tuple, list])
def test_seed_gradient_of_a_tuple_and_a_list(container, target):
    x = container([1.0, math.pi / 2, -1.0])
    got = s2sjax.grad(SEED_5, target=target)(x)
    assert type(got) is container
    np.testing.assert_allclose(got, [1.0, 2.0, -8.0], rtol=1e-12)


def test_a_dict_without_the_keys_gives_the_functions_own_key_error():
    with pytest.raises(KeyError) as info:
        s2sjax.grad(SEED_5, target="python")({"a": 1.0, "b": 2.0, "c": 3.0})
    assert info.value.args == (0,)
    notes = "".join(getattr(info.value, "__notes__", []))
    assert not hasattr(info.value, "add_note") or "return x[0] - 2 * math.cos(x[1])" in notes


MLP = define("""
def mlp(params, x, y):
    for w, b in params:
        x = np.tanh(w @ x + b)
    return np.sum((x - y) ** 2)
""")


def mlp_params(sizes, rng):
    return [
        (rng.normal(size=(m, n)) / n, rng.normal(size=m)) for n, m in zip(sizes[:-1], sizes[1:])
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_gradient_of_a_list_of_layer_tuples(target):
    params = mlp_params([4, 3, 2], RNG)
    x, y = RNG.normal(size=4), RNG.normal(size=2)
    got = s2sjax.grad(MLP, target=target)(params, x, y)
    assert type(got) is list and all(type(layer) is tuple for layer in got)
    assert_tree_close(got, fd_tree(MLP, (params, x, y), 0))


DICT_MODEL = define("""
def predict(params, x):
    hidden = np.tanh(params["w1"] @ x + params["b1"])
    return params["scale"] * np.sum(hidden * hidden)
""")


@pytest.mark.parametrize("target", TARGETS)
def test_value_and_grad_with_argnums_over_a_dict_and_an_array(target):
    params = {"w1": RNG.normal(size=(3, 2)), "b1": RNG.normal(size=3), "scale": 0.7}
    x = RNG.normal(size=2)
    value, (g_params, g_x) = s2sjax.value_and_grad(DICT_MODEL, argnums=(0, 1), target=target)(
        params, x
    )
    np.testing.assert_allclose(value, DICT_MODEL(params, x), rtol=1e-13)
    assert list(g_params) == ["w1", "b1", "scale"]
    assert_tree_close(g_params, fd_tree(DICT_MODEL, (params, x), 0))
    np.testing.assert_allclose(g_x, numerical_grad(DICT_MODEL, (params, x), 1), rtol=1e-8)


HELPERS = define(
    """
def dense(layer, x):
    w, b = layer
    return w @ x + b


def net(params, x):
    total = 0.0
    for k, layer in enumerate(params[:-1]):
        x = np.sin(dense(layer, x)) * (k + 1)
    for name, value in params[-1].items():
        total = total + value * np.sum(x)
    for scale in params[-1].values():
        total = total + scale
    return total + len(params) * params[-2][1][0]
""",
    "net",
)


@pytest.mark.parametrize("target", TARGETS)
def test_helpers_enumerate_items_values_len_and_slices(target):
    params = [
        (RNG.normal(size=(3, 3)), RNG.normal(size=3)),
        (RNG.normal(size=(2, 3)), RNG.normal(size=2)),
        {"a": 0.3, "b": -1.2},
    ]
    x = RNG.normal(size=3)
    got = s2sjax.grad(HELPERS, target=target)(params, x)
    assert_tree_close(got, fd_tree(HELPERS, (params, x), 0))


ZIPPED = define("""
def zipped(ws, scales, x):
    out = {"acc": 0.0}
    for w, s in zip(ws, scales):
        x = w * x * s
    return out["acc"] + np.sum(x)
""")


def test_zip_over_two_containers_and_a_dict_built_inside():
    ws, scales, x = (RNG.normal(size=3), RNG.normal(size=3)), [2.0, 3.0], RNG.normal(size=3)
    got = s2sjax.grad(ZIPPED, argnums=(0, 1), target="python")(ws, scales, x)
    assert type(got[0]) is tuple and type(got[1]) is list
    assert_tree_close(got[0], fd_tree(ZIPPED, (ws, scales, x), 0))
    assert_tree_close(got[1], fd_tree(ZIPPED, (ws, scales, x), 1))


AUX = define("""
def with_aux(params, x):
    loss = np.sum((params[0] * x + params[1]) ** 2)
    return loss, params[1] * 2.0
""")


def test_has_aux_with_a_container_argument():
    params, x = [RNG.normal(size=2), 0.5], RNG.normal(size=2)
    (g, aux) = s2sjax.grad(AUX, has_aux=True, target="python")(params, x)
    assert type(g) is list and aux == 1.0
    assert_tree_close(g, fd_tree(lambda p, x: AUX(p, x)[0], (params, x), 0))


# ---- jvp, vjp, jacobians ------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_jvp_and_vjp_agree_by_the_dot_product_test(target):
    params, x, y = mlp_params([3, 2], RNG), RNG.normal(size=3), RNG.normal(size=2)
    tangent = tree_map(lambda p: RNG.normal(size=np.shape(p)), params)
    value, forward = s2sjax.jvp(
        MLP, (params, x, y), (tangent, np.zeros(3), np.zeros(2)), target=target
    )
    out, pullback = s2sjax.vjp(MLP, params, x, y, target=target)
    cotangent = pullback(1.0)
    assert type(cotangent) is tuple and len(cotangent) == 3 and type(cotangent[0]) is list
    np.testing.assert_allclose(value, out, rtol=1e-13)
    dot = sum(np.sum(t * c) for t, c in zip(tree_leaves(tangent), tree_leaves(cotangent[0])))
    np.testing.assert_allclose(forward, dot, rtol=1e-10)


def test_jvp_tangents_must_have_the_primals_structure():
    with pytest.raises(
        TypeError,
        match=r"same tree structure; primals have tree structure \(\*, \*\) whereas "
        r"tangents have tree structure \[\*, \*\]",
    ):
        s2sjax.jvp(AUX, ((1.0, 2.0), 1.0), ([1.0, 0.0], 0.0), target="python")


def test_jacobians_of_a_dict_argument_by_both_modes():
    fun = define("""
    def curve(p):
        return p["a"] * np.arange(3.0) + np.sum(p["b"] ** 2)
    """)
    p = {"a": 1.5, "b": RNG.normal(size=2)}
    forward = s2sjax.jacfwd(fun, target="python")(p)
    reverse = s2sjax.jacrev(fun, target="python")(p)
    assert list(forward) == ["a", "b"] and list(reverse) == ["a", "b"]
    np.testing.assert_allclose(forward["a"], np.arange(3.0))
    np.testing.assert_allclose(forward["b"], np.tile(2 * p["b"], (3, 1)), rtol=1e-13)
    assert_tree_close(forward, reverse, rtol=1e-13)


# ---- vmap and jit ---------------------------------------------------------------------

LINEAR = define("""
def linear(params, x, y):
    w, b = params
    return np.sum((w * x + b - y) ** 2)
""")


@pytest.mark.parametrize("target", TARGETS)
def test_vmap_of_grad_gives_per_example_gradients_in_the_params_structure(target):
    params = [RNG.normal(size=3), 0.5]
    xs, ys = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    per_example = s2sjax.vmap(
        s2sjax.grad(LINEAR, target=target), in_axes=(None, 0, 0), target=target
    )(params, xs, ys)
    assert type(per_example) is list
    for i in range(5):
        assert_tree_close(
            [per_example[0][i], per_example[1][i]], fd_tree(LINEAR, (params, xs[i], ys[i]), 0)
        )


@pytest.mark.parametrize("target", TARGETS)
def test_vmap_with_a_dict_prefix_in_axes(target):
    fun = define("""
    def affine(p, x):
        return p["w"] * x + p["b"]
    """)
    p, x = {"w": RNG.normal(size=(4, 2)), "b": 1.5}, RNG.normal(size=(2, 4))
    got = s2sjax.vmap(fun, in_axes=({"w": 0, "b": None}, 1), target=target)(p, x)
    np.testing.assert_allclose(
        got, [fun({"w": p["w"][i], "b": 1.5}, x[:, i]) for i in range(4)], rtol=1e-13
    )


def test_vmap_errors_name_the_leaf():
    with pytest.raises(ValueError, match=r"axis 0 of argument params\[0\] of type float64\[4\]"):
        s2sjax.vmap(LINEAR, in_axes=((0, None), 0, 0))(
            [np.ones(4), 1.0], np.ones((3, 2)), np.ones((3, 2))
        )
    with pytest.raises(
        ValueError, match=r"but is only 0 \(its shape is \(\)\): argument params\[1\]"
    ):
        s2sjax.vmap(LINEAR, in_axes=(0, 0, 0))([np.ones(3), 1.0], np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="tree prefix"):
        s2sjax.vmap(LINEAR, in_axes=({"w": 0}, 0, 0))(
            [np.ones(3), 1.0], np.ones((3, 2)), np.ones((3, 2))
        )


def test_jit_with_containers_and_a_static_tuple():
    fun = define("""
    def poly(p, x, powers):
        return p[0] * x ** powers[0] + p[1] * x ** powers[1]
    """)
    jitted = s2sjax.jit(fun, static_argnums=2)
    x = RNG.normal(size=3)
    np.testing.assert_allclose(
        jitted([2.0, 3.0], x, (1, 2)), fun([2.0, 3.0], x, (1, 2)), rtol=1e-13
    )
    np.testing.assert_allclose(
        jitted((2.0, 3.0), x, (2, 3)), fun((2.0, 3.0), x, (2, 3)), rtol=1e-13
    )


# ---- errors -----------------------------------------------------------------------------


def test_a_leaf_that_is_not_a_float_is_named_by_its_path():
    with pytest.raises(TypeError, match=r"but got int64 for params\[1\]\[0\]"):
        s2sjax.grad(MLP, target="python")(
            [(np.ones((2, 2)), np.ones(2)), (np.ones((2, 2), dtype=np.int64), np.ones(2))],
            np.ones(2),
            np.ones(2),
        )
    with pytest.raises(TypeError, match=r"the argument params\['w'\] is a str"):
        s2sjax.grad(DICT_MODEL, argnums=1, target="python")({"w": "no"}, np.ones(2))


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "for w in params:\n        if w > 0:\n            break\n    return w",
            "'break', 'continue' or 'return' in a loop over a container",
        ),
        ("a, b = params\n    return a", "unpacking a dict"),
        ("params['w'] = 1.0\n    return params['w']", "updating an element of a dict"),
    ],
)
def test_container_misuse_is_located(body, message):
    fun = define(f"def misuse(params):\n    {body}\n")
    with pytest.raises(TransformError, match=message) as info:
        s2sjax.grad(fun, target="python")({"w": 1.0, "b": 2.0})
    assert (
        info.value.filename == fun.__code__.co_filename
        and info.value.lineno > fun.__code__.co_firstlineno
    )


def test_returns_of_different_structures_are_located():
    fun = define("def branches(x):\n    if x > 0:\n        return [x]\n    return {'x': x}\n")
    with pytest.raises(TransformError, match="every return must give the same structure") as info:
        s2sjax.jit(fun, target="python")(1.0)
    assert info.value.filename == fun.__code__.co_filename


def test_an_index_past_the_end_gives_pythons_index_error():
    fun = define("def past(p):\n    return p[2]\n")
    with pytest.raises(IndexError, match="list index out of range"):
        s2sjax.grad(fun, target="python")([1.0, 2.0])


def test_source_and_the_notebook_display_after_a_call_with_containers():
    # a function of its own: grad of LINEAR, called by other tests, would show their code
    fun = define("""
    def linear(params, x, y):
        w, b = params
        return np.sum((w * x + b - y) ** 2)
    """)
    loss = s2sjax.grad(fun, target="python")
    assert "not called yet" in loss._repr_markdown_()
    loss([np.ones(3), 0.5], np.ones(3), np.zeros(3))
    shown = loss._repr_markdown_()
    assert (
        "```python\n# Generated by s2sjax" in shown
        and "def linear_grad(params_0, params_1, x, y):" in shown
    )
    assert s2sjax.source(loss) in shown


# ---- lists and dicts as outputs -----------------------------------------------------------

OUTPUTS = define("""
def features(x, y):
    scaled = [np.sin(x) * y, y * y]
    return {"scaled": scaled, "sum": np.sum(x) * y}
""")


def features_loop(x, y):
    return {"scaled": [np.sin(x) * y, y * y], "sum": np.sum(x) * y}


@pytest.mark.parametrize("target", TARGETS)
def test_jit_jvp_and_vjp_of_a_function_returning_a_dict_of_lists(target):
    x, y, v = RNG.normal(size=3), 0.7, RNG.normal(size=3)
    assert_tree_close(s2sjax.jit(OUTPUTS, target=target)(x, y), features_loop(x, y), rtol=1e-14)
    out, tangent = s2sjax.jvp(OUTPUTS, (x, y), (v, 0.5), target=target)
    assert_tree_close(out, features_loop(x, y), rtol=1e-14)
    h = 1e-6
    ahead, behind = features_loop(x + h * v, y + h * 0.5), features_loop(x - h * v, y - h * 0.5)
    assert_tree_close(
        tangent, tree_map(lambda a, b: (a - b) / (2 * h), ahead, behind), rtol=1e-7, atol=1e-8
    )
    value, pullback = s2sjax.vjp(OUTPUTS, x, y, target=target)
    cotangent = tree_map(lambda leaf: RNG.normal(size=np.shape(leaf)), value)
    ct_x, ct_y = pullback(cotangent)
    dot_forward = sum(np.sum(t * c) for t, c in zip(tree_leaves(tangent), tree_leaves(cotangent)))
    np.testing.assert_allclose(np.sum(ct_x * v) + ct_y * 0.5, dot_forward, rtol=1e-12)
    with pytest.raises(TypeError, match="the cotangent must have the output's structure"):
        pullback([1.0, 2.0])


@pytest.mark.parametrize("target", TARGETS)
def test_vmap_of_a_function_returning_a_dict_with_out_axes_per_leaf(target):
    xs, y = RNG.normal(size=(4, 3)), 0.7
    batched = s2sjax.vmap(
        OUTPUTS, in_axes=(0, None), out_axes={"scaled": [1, 0], "sum": 0}, target=target
    )(xs, y)
    loop = [features_loop(x, y) for x in xs]
    np.testing.assert_allclose(
        batched["scaled"][0], np.stack([r["scaled"][0] for r in loop], axis=1), rtol=1e-14
    )
    np.testing.assert_allclose(batched["scaled"][1], [r["scaled"][1] for r in loop], rtol=1e-14)
    np.testing.assert_allclose(batched["sum"], [r["sum"] for r in loop], rtol=1e-14)
    with pytest.raises(ValueError, match="out_axes specification must be a tree prefix"):
        s2sjax.vmap(OUTPUTS, in_axes=(0, None), out_axes={"scaled": 0}, target=target)(xs, y)


@pytest.mark.parametrize("target", TARGETS)
def test_has_aux_with_a_dict_and_a_function_passing_its_params_through(target):
    fun = define("""
    def with_metrics(params, x):
        loss = np.sum((params["w"] * x) ** 2)
        return loss, {"params": params, "norm": np.sqrt(loss)}
    """)
    params, x = {"w": RNG.normal(size=2), "b": 1.5}, RNG.normal(size=2)
    (value, aux), grads = s2sjax.value_and_grad(fun, has_aux=True, target=target)(params, x)
    assert list(aux) == ["params", "norm"] and list(aux["params"]) == ["w", "b"]
    np.testing.assert_allclose(aux["params"]["w"], params["w"])
    np.testing.assert_allclose(aux["norm"], np.sqrt(value), rtol=1e-14)
    assert_tree_close(grads, fd_tree(lambda p, x: fun(p, x)[0], (params, x), 0))


def test_jacobians_and_transforming_again_refuse_list_and_dict_outputs():
    with pytest.raises(
        TypeError, match="jacfwd of a function returning a list or a dict is not supported"
    ):
        s2sjax.jacfwd(OUTPUTS, target="python")(np.ones(3), 1.0)
    with pytest.raises(TypeError, match="cannot be transformed again"):
        s2sjax.jacfwd(s2sjax.jit(OUTPUTS, target="python"), target="python")(np.ones(3), 1.0)


def test_vmap_of_a_transformed_function_returning_a_dict_batches_each_leaf():
    xs = np.arange(6.0).reshape(2, 3)
    got = s2sjax.vmap(s2sjax.jit(OUTPUTS, target="python"), in_axes=(0, None), target="python")(
        xs, 1.5
    )
    per_example = [features_loop(x, 1.5) for x in xs]
    np.testing.assert_allclose(got["scaled"][0], np.stack([e["scaled"][0] for e in per_example]))
    np.testing.assert_allclose(got["scaled"][1], [2.25, 2.25])
    np.testing.assert_allclose(got["sum"], [e["sum"] for e in per_example])


@pytest.mark.parametrize("target", TARGETS)
def test_hessian_of_a_dict_argument_is_a_dict_of_dicts_matching_the_closed_form(target):
    fun = define("""
    def energy(p):
        return np.sum(p["w"] ** 2) * p["b"] + np.sin(p["w"][0]) * p["b"]
    """)
    w, b = RNG.normal(size=2), 1.5
    h = s2sjax.hessian(fun, target=target)({"w": w, "b": b})
    assert list(h) == ["w", "b"] and all(list(row) == ["w", "b"] for row in h.values())
    np.testing.assert_allclose(h["w"]["w"], np.diag([2 * b - b * np.sin(w[0]), 2 * b]), rtol=1e-12)
    np.testing.assert_allclose(h["w"]["b"], 2 * w + [np.cos(w[0]), 0.0], rtol=1e-12)
    np.testing.assert_allclose(h["b"]["w"], h["w"]["b"], rtol=1e-12)
    assert h["b"]["b"] == 0.0
    one_leaf = s2sjax.hessian(lambda p: np.sum(p[0] ** 3), target=target)([w])
    np.testing.assert_allclose(one_leaf[0][0], np.diag(6 * w), rtol=1e-12)


def test_jacfwd_of_a_function_returning_a_tuple_gives_one_jacobian_per_output_and_argument():
    fun = define("""
    def pair(x, y):
        return np.sin(x) * y, np.sum(x ** 2) * y
    """)
    x, y = RNG.normal(size=3), 1.5
    (dx0, dy0), (dx1, dy1) = s2sjax.jacfwd(fun, argnums=(0, 1), target="python")(x, y)
    np.testing.assert_allclose(dx0, np.diag(np.cos(x) * y), rtol=1e-13)
    np.testing.assert_allclose(dy0, np.sin(x), rtol=1e-13)
    np.testing.assert_allclose(dx1, numerical_grad(lambda x, y: fun(x, y)[1], (x, y), 0), rtol=1e-9)
    np.testing.assert_allclose(dy1, np.sum(x**2), rtol=1e-13)


@pytest.mark.parametrize("target", TARGETS)
def test_a_none_argument_beside_a_container_has_no_leaves(target):
    # None counted as a leaf when the leaves were taken, not when they were named: IndexError
    fun = define("""
    def scaled(p, scale=None):
        return p[0] * p[1] * p[1]
    """)
    p = [1.5, -0.5]
    for call in (
        lambda: s2sjax.grad(fun, target=target)(p),
        lambda: s2sjax.grad(fun, target=target)(p, None),
    ):
        assert_tree_close(call(), fd_tree(fun, (p,), 0))
    _, pullback = s2sjax.vjp(fun, p, None, target=target)
    assert_tree_close(pullback(1.0)[0], fd_tree(fun, (p,), 0))
    assert s2sjax.jit(fun, target=target)(p) == fun(p)


@pytest.mark.parametrize(
    "signature", ["*args, scale=1.0, **options", "p, *rest, scale=1.0", "p, scale=1.0, **options"]
)
def test_varargs_with_a_container_and_a_keyword_are_refused_at_the_users_def(signature):
    # the wrapper s2sjax wrote to rebuild the containers was invalid Python: a positional
    # argument (the **kwargs dict) after a keyword one
    fun = define(f"""
    def total({signature}):
        return 0.0
    """)
    with pytest.raises(
        TransformError, match=r"a '\*args' or '\*\*kwargs' parameter is not supported"
    ) as info:
        s2sjax.grad(fun)((1.0, 2.0), scale=3.0)
    assert info.value.lineno == fun.__code__.co_firstlineno
