"""Imported first by ``nn`` (and so by ``viz``): check that ``import autograd`` finds
backproplab's engine. HIPS autograd (``pip install autograd``) has the same import name;
when it is the one found, every later ``from autograd import Value`` would fail deep
inside, so this names the clash and the fix in one line instead.
"""

import autograd

if not hasattr(autograd, "Value"):
    raise ImportError(
        f"'import autograd' finds {getattr(autograd, '__file__', None) or autograd!r}, "
        "another package of that name (HIPS autograd, 'pip install autograd'), not "
        "backproplab's engine: the two cannot share an environment; install backproplab "
        "in a virtual environment of its own (python3 -m venv .venv, as make does)"
    )
