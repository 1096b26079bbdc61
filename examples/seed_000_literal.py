"""Seed 000's JAX introduction, ported literally: only the import lines and the `jax.`/`jnp.`
prefixes changed. Cells that show JAX-only behaviour are left out, each with a comment saying
why.

Run it with `python examples/seed_000_literal.py`; `tests/test_seed_literal.py` checks its
numbers against the closed forms the tutorial states.
"""

import numpy as np
import numpy

from s2sjax import grad


# fmt: off
a = np.ones((1,10))
a

# left out: jax.config.update('jax_platform_name','cpu') chooses JAX's device (targets here)

b = np.zeros((2,3))
b

c = np.arange(1,20,2)
c

type(a)

d = numpy.array([1,3,4])

type(d)

d[2] = 5

d

# left out: `c[4] = -1` and `jnp.array(setB)` show JAX's immutable arrays and its refusal of
# sets; NumPy allows both
listA = [1, 2, 3]
setB = {2,3,5}
tupleC = (1,3,5)

a = numpy.array(listA)
b = numpy.array(setB)
c = numpy.array(tupleC)

print(a, type(a))
print(b, type(b))
print(c, type(c))

gradientExp = grad(np.exp)

gradientExp(2.0)

for x in np.linspace(-2.0,2.0,10):
  print("Exponential of ", x, " is: ", np.exp(x), " and its derivative's value (for x) is: ", gradientExp(x))

func = lambda x: 3*x*x+9

gradFunc = grad(func)

try:
    gradFunc(2)
except TypeError as error:  # as in JAX: grad requires float inputs
    print("TypeError:", error)

gradFunc(2.0)

doubleDerivativeFunc = grad(gradFunc)

doubleDerivativeFunc(20.0)

func_ab = lambda a,b: np.sin(a)+np.cos(b)  #For the ease, we can assume both a and b are already in Radians.

df_da = grad(func_ab)

df_da(np.pi, 2*np.pi)

df_db = grad(func_ab,argnums=1)
df_db(np.pi, 2*np.pi)

round(df_db(np.pi, 2*np.pi),6)

def FuncA(x):
  return x[0]-2*np.cos(x[1])+4*x[2]*x[2]

gradientVec = grad(FuncA)

x = np.array((1.0,0.5*np.pi,-1.0))
gradientVec(x)

tupleD = (1.0,2.0,0.0)
gradientVec(tupleD)

listE = [0.0,np.pi,0.0]
gradientVec(listE)

dictionaryF = {"x0":0.5,"x1":-np.pi,"x2":0.5}
try:
    gradientVec(dictionaryF)
except KeyError as error:  # as in JAX: FuncA indexes its argument by 0, 1, 2
    print("KeyError:", error)
# fmt: on
