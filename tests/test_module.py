"""nn.Module's bookkeeping against torch.nn.Module's: shared layers, frozen parameters,
train/eval, state dicts; and the one-line error when another 'autograd' shadows ours."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nn import SGD, BatchNorm1d, Linear, Module, Sequential, Tanh, mse_loss

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent


class Tied(Module):
    """One Linear under two attribute names (an autoencoder's tied encoder/decoder) and
    one BatchNorm twice in a list."""

    def __init__(self) -> None:
        self.enc = Linear(2, 2, rng=0)
        self.dec = self.enc
        norm = BatchNorm1d(2)
        self.norms = [norm, norm]

    def forward(self, x):
        return self.norms[0](self.dec(self.enc(x).tanh()))


class TorchTied(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = torch.nn.Linear(2, 2, dtype=torch.float64)
        self.dec = self.enc
        norm = torch.nn.BatchNorm1d(2, dtype=torch.float64)
        self.norms = torch.nn.ModuleList([norm, norm])

    def forward(self, x):
        return self.norms[0](self.dec(torch.tanh(self.enc(x))))


def _owner_paths(names):
    """'enc.W' -> 'enc', 'norms.0.running_mean' -> 'norms.0': what both libraries share."""
    return [n.rpartition(".")[0] for n in names]


def test_a_shared_layer_is_listed_once_as_torch_lists_it():
    ours, theirs = Tied(), TorchTied()
    assert [n for n, _ in ours.named_children()] == ["enc", "norms.0"]
    assert [n for n, _ in theirs.named_children()] == ["enc", "norms"]
    assert _owner_paths(n for n, _ in ours.named_parameters()) == _owner_paths(
        n for n, _ in theirs.named_parameters()
    )
    assert len(ours.parameters()) == len(list(theirs.parameters())) == 4
    assert [n for n, _ in ours.named_buffers()] == ["norms.0.running_mean", "norms.0.running_var"]
    # the state dict keeps every path, as torch's does: a file or a state loads either way
    torch_state = [n for n in theirs.state_dict() if "num_batches" not in n]
    assert sorted(_owner_paths(ours.state_dict())) == sorted(_owner_paths(torch_state))
    assert len(ours.state_dict()) == 12


def test_sgd_steps_a_model_with_a_shared_layer_as_torch_does():
    ours, theirs = Tied(), TorchTied()
    with torch.no_grad():
        theirs.enc.weight.copy_(torch.from_numpy(ours.enc.W.data.T.copy()))
        theirs.enc.bias.copy_(torch.from_numpy(ours.enc.b.data))
    x = np.random.default_rng(1).normal(size=(5, 2))
    y = np.random.default_rng(2).normal(size=(5, 2))
    opt = SGD(ours.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad(), topt.zero_grad()
        mse_loss(ours(x), y).backward()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        opt.step(), topt.step()
    np.testing.assert_allclose(ours.enc.W.data, theirs.enc.weight.detach().numpy().T, rtol=1e-12)
    np.testing.assert_allclose(ours.enc.b.data, theirs.enc.bias.detach().numpy(), rtol=1e-12)


def test_a_sequential_with_a_layer_twice_saves_loads_and_loads_its_state(tmp_path):
    shared = Linear(3, 3, rng=0)
    net = Sequential(shared, Tanh(), shared)
    assert len(net.parameters()) == 2
    x = np.random.default_rng(0).normal(size=(4, 3))
    net.save(tmp_path / "net.safetensors")
    back = Module.load(tmp_path / "net.safetensors")  # the tie is not kept, the numbers are
    np.testing.assert_array_equal(back(x).data, net(x).data)
    net.load_state_dict(back.state_dict())
    np.testing.assert_array_equal(net(x).data, back(x).data)


def test_a_frozen_parameter_stays_in_the_state_and_parameters_as_in_torch(tmp_path):
    layer, tlayer = Linear(2, 3, rng=0), torch.nn.Linear(2, 3)
    layer.W.requires_grad = False
    tlayer.weight.requires_grad_(False)
    assert [n for n, _ in layer.named_parameters()] == ["W", "b"]  # torch: weight, bias
    assert len(layer.parameters()) == len(list(tlayer.parameters())) == 2
    assert list(layer.state_dict()) == ["W", "b"] and len(tlayer.state_dict()) == 2
    layer.load_state_dict(layer.state_dict())
    layer.save(tmp_path / "frozen.safetensors")
    back = Module.load(tmp_path / "frozen.safetensors")
    np.testing.assert_array_equal(back.W.data, layer.W.data)


def test_an_optimizer_leaves_a_frozen_parameter_as_torch_does():
    layer, tlayer = Linear(2, 3, rng=0), torch.nn.Linear(2, 3, dtype=torch.float64)
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(layer.W.data.T.copy()))
        tlayer.bias.copy_(torch.from_numpy(layer.b.data))
    layer.W.requires_grad = False
    tlayer.weight.requires_grad_(False)
    frozen = layer.W.data.copy()
    x = np.random.default_rng(3).normal(size=(4, 2))
    opt = SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.5)
    topt = torch.optim.SGD(tlayer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.5)
    for _ in range(2):
        opt.zero_grad(), topt.zero_grad()
        (layer(x) ** 2).sum().backward()
        (tlayer(torch.from_numpy(x)) ** 2).sum().backward()
        opt.step(), topt.step()
    np.testing.assert_array_equal(layer.W.data, frozen)
    np.testing.assert_allclose(layer.b.data, tlayer.bias.detach().numpy(), rtol=1e-12)
    plain = SGD(layer.parameters(), lr=0.1)  # the in-place path too
    layer.W.grad = np.ones((2, 3))
    plain.step()
    np.testing.assert_array_equal(layer.W.data, frozen)


@pytest.mark.parametrize("mode", ["invalid_str", 1, None])
def test_train_takes_only_a_bool_as_torch(mode):
    with pytest.raises(ValueError, match="training mode is expected to be boolean") as ours:
        Linear(2, 2).train(mode)
    with pytest.raises(ValueError, match=str(ours.value)):
        torch.nn.Linear(2, 2).train(mode)


# ------------------------------------------------------------------ HIPS autograd
HIPS_AUTOGRAD = '''
"""Stands in for HIPS autograd (pip install autograd): the same import name, no Value."""
from .differential_operators import grad
'''


@pytest.mark.parametrize("package", ["nn", "viz"])
def test_hips_autograd_found_first_is_named_in_one_line(tmp_path, package):
    fake = tmp_path / "autograd"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent(HIPS_AUTOGRAD))
    (fake / "differential_operators.py").write_text("def grad(fun):\n    return fun\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    run = subprocess.run(
        [sys.executable, "-c", f"import {package}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: ")
    assert str(fake / "__init__.py") in last
    assert "HIPS" in last and "virtual environment" in last
