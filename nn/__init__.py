"""Neural networks on the autograd engine (see issue: nn)."""
