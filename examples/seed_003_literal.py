"""Seed 003's auto-diff with JAX, ported literally: only the import lines and the `jax.`/`jnp.`
prefixes changed; IPython's `%timeit` cells are timed with `timeit` instead.

Run it with `python examples/seed_003_literal.py`; `tests/test_seed_literal.py` checks its
numbers against the closed forms the tutorial states.
"""

import timeit

import numpy as np
import s2sjax


# fmt: off
func = lambda x : x * np.sin(x ** 2)
x0 = 0.13
dfunc_AD = s2sjax.grad(func, argnums=0)
df_AD = dfunc_AD(x0)

# analytical derivative
dfunc = lambda x : np.sin(x**2)+2 * x**2 * np.cos(x**2)
df_ex = dfunc(x0)

print('df (ex): %f' % df_ex)
print('df (AD): %f' % df_AD)

print('err (AD): %e' % (abs(df_AD - df_ex)/abs(df_ex))) # errore percentuale minuscolo

print(timeit.timeit(lambda: dfunc_AD(x0), number=100) / 100, "s per call of dfunc_AD")  # %timeit

print(timeit.timeit(lambda: func(x0), number=100) / 100, "s per call of func")  # %timeit

dfunc_AD_jit = s2sjax.jit(dfunc_AD)

print(timeit.timeit(lambda: dfunc_AD_jit(x0), number=100) / 100, "s per call of dfunc_AD_jit")

# per le reti neurali userai solo backwards mode --> molti input e pochi output --> questo è l'unico modo per scalare a reti neurali profonde (backpropagation)

def func(x, y):
    return x * np.sin(x ** 2) + x * y

x0 = 0.13
y0 = 1.0
grad_x = s2sjax.grad(func, argnums=0)(x0, y0) # argnums mi dice rispetto a cosa derivare --> x0 e y0 devono essere float
grad_y = s2sjax.grad(func, argnums=1)(x0, y0)

float(grad_x), float(grad_y)

# ecco come usare jax per calcolare le derivate parziali puntuali di una funzioni multivariabile
# fmt: on
