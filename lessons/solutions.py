"""The exercises' solutions, for teachers: one ``# %% <id>`` section per exercise.

``make solutions`` (``python lessons/make_solutions.py``) puts each section in place of
its exercise cell and writes the filled notebooks to ``out/solutions/``. Each section
stands alone (its own imports) and calls ``check``, which the notebook (or the test that
runs it) provides.
"""

# ruff: noqa: E402, F821

# %% 1.1
import math

z = 1 * 3 + (-1) * 2 + 0.5
answer = 1 / (1 + math.exp(-z))
check("1.1", answer)

# %% 1.2
answer = -6.0  # 2·3 + b = 0
check("1.2", answer)

# %% 1.3
answer = (5 - 1) / (2 - 0)  # the slope through (0, 1) and (2, 5)
check("1.3", answer)

# %% 2.1
import math

answer = 1 / (1 + math.exp(-(0 * 2 + 1 * 3 + 0)))
check("2.1", answer)

# %% 2.2
import math


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


L1_n1 = L1_n2 = sigmoid(0 * 1 + 1 * (-1) + 0)  # layer 1's two neurons are alike
answer = sigmoid(0 * L1_n1 + 1 * L1_n2 + 0)  # out = L2.n1
check("2.2", answer)

# %% 2.3
answer = (3 * 4 + 4) + (4 * 4 + 4) + (4 * 1 + 1)
check("2.3", answer)

# %% 3.1
import numpy as np

y_true, y_pred = np.array([1, 0, 0, 1]), np.array([0, 0, 0, 0])
answer = np.mean((y_true - y_pred) ** 2)
check("3.1", answer)

# %% 3.2
answer = (4 // 2) * 500  # 2 batches an epoch, 500 epochs
check("3.2", answer)

# %% 3.3
answer = 0.3
check("3.3", answer)

# %% 4.1
import math

z = -2 * 3 + 1 * 2 + 5  # = 1
out = 1 / (1 + math.exp(-z))
answer = out * (1 - out) * 2  # d(out)/dz · dz/dw2, and dz/dw2 = x2 = 2
check("4.1", answer)

# %% 4.2
import math

out = 1 / (1 + math.exp(-1))
answer = out * (1 - out) * -2  # dz/dx1 = w1 = -2
check("4.2", answer)

# %% 4.3
a, b = 2.0, -3.0
answer = b + 1  # d(a·b)/da + d(a)/da
check("4.3", answer)

# %% 4.4
import math


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


x1, x2, y = 2.0, 3.0, 0.0  # the target is 0 now
L1_n2 = sigmoid(0 * x1 + 1 * x2 + 0)  # = L1.n1
out = sigmoid(0 * L1_n2 + 1 * L1_n2 + 0)
d_out = 2 * (out - y)  # the only link that changes with y
d_L2_n1_z = d_out * out * (1 - out)
d_L1_n2 = d_L2_n1_z * 1  # through L2.n1.w2 = 1
d_L1_n2_z = d_L1_n2 * L1_n2 * (1 - L1_n2)
answer = d_L1_n2_z * x2  # ∂L1.n2.z/∂L1.n2.w2 = x2
check("4.4", answer)

# %% 5.1
import math

answer = math.exp(2) / (math.exp(1) + math.exp(2))
check("5.1", answer)

# %% 5.2
import math

answer = -math.log(0.7)
check("5.2", answer)

# %% 5.3
import numpy as np


def predict(scores):
    return np.argmax(scores, axis=1)


check("5.3", predict)

# %% 6.1
answer = "B"
check("6.1", answer)

# %% 6.2
answer = "C"
check("6.2", answer)

# %% 6.3
answer = 2 * 0.01 * 3  # d(l2·w²)/dw = 2·l2·w
check("6.3", answer)

# %% 7.1
answer = ["x2", "y2"]
check("7.1", answer)

# %% 7.2
answer = "xy"
check("7.2", answer)

# %% 8.1


def cube_vjp(g, out, a):
    return g * 3 * a**2


check("8.1", cube_vjp)

# %% 8.2
import numpy as np


def softplus_vjp(g, out, a):
    return g / (1 + np.exp(-a))


check("8.2", softplus_vjp)

# %% 8.3
import numpy as np

from autograd import Op

SIN = Op("sin", np.sin, lambda g, out, a: g * np.cos(a), show="sin({a})", local=("cos({a})",))
check("8.3", SIN)

# %% 9.1
import math

q2 = [1.0, 2.0]
keys = [[0.5, 0.0], [1.0, 1.0], [-1.0, 0.5]]  # key 3 comes after position 2: masked
scores = [(q2[0] * k[0] + q2[1] * k[1]) / math.sqrt(2) for k in keys]  # d = 2
answer = math.exp(scores[0]) / sum(math.exp(s) for s in scores)
check("9.1", answer)

# %% 9.2
answer = 5 + 4 + 3 + 2 + 1 + 0  # query i may not look at the 5 - i keys after it
check("9.2", answer)

# %% 9.3
answer = 6 * 1.0  # 6 rows, each one softmax: its weights add up to 1
check("9.3", answer)
