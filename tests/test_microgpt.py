"""microGPT on backproplab: its model code runs unchanged on ``autograd.Value`` (the drop-in),
nn.gpt's scalar and tensor modes compute the same losses, and all of them equal PyTorch's;
the census names load (and a bad names file is one clear line); examples/microgpt.py
trains, samples and saves."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd import Value, topological_order
from benchmarks.microgpt import MicroGPTStyle, PlainValue, microgpt_state, torch_loss
from nn import Module, datasets, gpt

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "microgpt.py"
NAMES = ["emma", "olivia", "ava", "isabella", "sophia"]
TOK = gpt.Tokenizer(NAMES)
TINY = {"n_embd": 8, "n_head": 2, "block_size": 8}  # 2 heads of 4, block 8
STEPS = 3


def lr(step):
    return gpt.LR * (1 - step / STEPS)


def tiny_model(**config):
    return gpt.MicroGPT(TOK.vocab_size, **{**TINY, **config}, rng=7)


def torch_losses(model, steps=STEPS):
    """The same model and Adam in PyTorch, from the same weights."""
    torch = pytest.importorskip("torch")
    P = {k: torch.tensor(a, requires_grad=True) for k, a in model.state_dict().items()}
    opt = torch.optim.Adam(P.values(), lr=gpt.LR, betas=gpt.BETAS, eps=gpt.ADAM_EPS)
    losses = []
    for step in range(steps):
        tokens = TOK.encode(NAMES[step % len(NAMES)])[: model.block_size + 1]
        loss = torch_loss(P, torch.tensor(tokens[:-1]), torch.tensor(tokens[1:]), model.n_head)
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = lr(step)
        opt.step()
        losses.append(loss.item())
    return losses


def style_losses(value_class, model, steps=STEPS):
    """microGPT-style model code (lists of Values, sum(), p.grad = 0, p.data -= ...)."""
    gpt = MicroGPTStyle(value_class, microgpt_state(model.state_dict()), model.n_head)
    return [gpt.train_step(TOK.encode(NAMES[s % len(NAMES)]), lr(s)) for s in range(steps)]


# ------------------------------------------------------------------ the drop-in
@pytest.mark.parametrize("value_class", [Value, PlainValue], ids=["autograd.Value", "plain"])
def test_microgpt_style_code_runs_on_the_value_and_equals_torch(value_class):
    model = tiny_model()
    ours = style_losses(value_class, model)
    assert ours[0] == pytest.approx(math.log(TOK.vocab_size), abs=0.2)  # small random logits
    np.testing.assert_allclose(ours, torch_losses(model), rtol=0, atol=1e-9)
    assert ours[-1] < ours[0]


def test_the_drop_in_keeps_microgpts_value_semantics():
    """What microGPT's code relies on, on both Values: reflected operators with plain
    numbers, ** with a float exponent, Python's sum(), p.grad = 0, p.data -= ..."""
    results = []
    for V in (PlainValue, Value):
        a, b = V(0.7), V(-1.3)
        terms = [2 - a, 3 / b, 1 + a * b, (a * a + 1e-5) ** -0.5, b**2, -a, a / 4, a.exp().log()]
        out = sum(t * (i + 1) for i, t in enumerate(terms)) + b.relu() + (a - 5).exp()
        out.backward()
        grads = (a.grad, b.grad)
        a.grad = 0  # microGPT zeroes each gradient with an int
        b.grad = 0
        a.data -= 0.25 * grads[0]  # and steps .data in place
        again = a * b
        again.backward()
        assert len({a, b, again}) == 3  # Values are hashable (its topological sort uses a set)
        results.append((out.data, *grads, a.data, a.grad, b.grad))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-14)


# ------------------------------------------------------------------ the two modes
@pytest.mark.parametrize(
    "config", [{}, {"n_layer": 2}, {"n_embd": 16, "n_head": 4, "block_size": 16}], ids=str
)
def test_scalar_and_tensor_modes_give_the_same_losses_as_torch(config):
    model = tiny_model(**config)
    scalar = model.scalarize()
    tensor_losses = gpt.train(model, NAMES, TOK, STEPS)
    scalar_losses = gpt.train(scalar, NAMES, TOK, STEPS)
    np.testing.assert_allclose(tensor_losses, scalar_losses, rtol=0, atol=1e-9)
    np.testing.assert_allclose(tensor_losses, torch_losses(tiny_model(**config)), atol=1e-9)
    after = scalar.state_dict()  # the same weights after training, in the same layout
    assert after.keys() == model.state_dict().keys()
    for name, array in model.state_dict().items():
        np.testing.assert_allclose(after[name], array, rtol=0, atol=1e-12)


def test_the_full_size_model_has_microgpts_4192_parameters():
    model = gpt.MicroGPT(27, rng=0)
    assert sum(p.size for p in model.parameters()) == 4192
    assert len(model.scalarize().parameters()) == 4192
    assert model.scalarize().parameters()[0].label == "wte.weight[0,0]"


def test_sampling_is_reproducible_and_the_same_in_both_modes():
    model = tiny_model()
    gpt.train(model, NAMES, TOK, 20)
    tensor = gpt.sample(model, TOK, 4, seed=3)
    assert tensor == gpt.sample(model, TOK, 4, seed=3)
    assert tensor == gpt.sample(model.scalarize(), TOK, 4, seed=3)
    assert all(set(n) <= set(TOK.chars) and len(n) <= model.block_size for n in tensor)


def test_attention_weights_are_each_query_softmax_over_the_keys_before_it():
    model = tiny_model(n_layer=2)
    ids = np.array(TOK.encode("ava")[:-1])
    weights = model.attention_weights(ids)
    assert weights.shape == (2, 2, 4, 4)  # layers, heads, queries, keys
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)
    assert not weights[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]].any()
    x = model.wte.weight.data[ids] + model.wpe.weight.data[:4]  # layer 0, head 1, by hand
    rms = lambda a: a / np.sqrt((a * a).mean(axis=-1, keepdims=True) + gpt.NORM_EPS)
    h = rms(rms(x))
    q, k = (h @ model.attn[0].Wq.data)[:, 4:], (h @ model.attn[0].Wk.data)[:, 4:]
    scores = np.where(np.tri(4, dtype=bool), q @ k.T / np.sqrt(4), -np.inf)
    by_hand = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(weights[0, 1], by_hand / by_hand.sum(axis=1, keepdims=True))


def test_both_modes_label_the_parts_a_drawing_names():
    model = tiny_model()
    tensor, scalar = model.loss(TOK.encode("ava")), model.scalarize().loss(TOK.encode("ava"))
    parts = ["x", "norm", "norm1.0", "x + attn.0", "norm2.0", "x + mlp.0", "logits", "loss"]
    for loss in (tensor, scalar):
        labels = {v.label for v in topological_order(loss) if v.op}
        assert labels == set(parts) | {""}


def test_a_sequence_longer_than_the_block_is_refused():
    with pytest.raises(ValueError, match=r"MicroGPT: sequences of 1 to 8 tokens, got 9"):
        tiny_model()(np.zeros(9, dtype=int))


# ------------------------------------------------------------------ files and other tools
def test_save_load_to_torch_and_gradients(tmp_path):
    torch = pytest.importorskip("torch")
    from nn import to_torch

    model = tiny_model()
    gpt.train(model, NAMES, TOK, 2)
    model.save(tmp_path / "gpt.safetensors")
    back = Module.load(tmp_path / "gpt.safetensors")
    ids = np.array(TOK.encode("ava")[:-1])
    np.testing.assert_array_equal(back(ids).data, model(ids).data)
    theirs = to_torch(back)
    logits = theirs(torch.tensor(ids))
    np.testing.assert_allclose(logits.detach().numpy(), back(ids).data, rtol=0, atol=1e-12)
    torch.nn.functional.cross_entropy(logits, torch.tensor(TOK.encode("ava")[1:])).backward()
    back.loss(TOK.encode("ava")).backward()
    torch_grads = dict(theirs.named_parameters())
    np.testing.assert_allclose(
        back.lm_head.W.grad, torch_grads["lm_head.weight"].grad.numpy().T, atol=1e-12
    )
    np.testing.assert_allclose(
        back.wte.weight.grad, torch_grads["wte.weight"].grad.numpy(), atol=1e-12
    )


def test_the_gpt_exports_to_onnx_and_onnxruntime_gives_our_logits(tmp_path):
    """The ids go in as int64 and each table lookup is one Gather (the token embedding's
    of the input, the positions' of a constant); traced on one name, run on a batch."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from nn import export_onnx

    model = tiny_model()
    gpt.train(model, NAMES, TOK, 2)  # trained weights, not only the initial ones
    export_onnx(model, np.array([TOK.encode("ava")[:-1]]), tmp_path / "gpt.onnx")
    graph = onnx.load(tmp_path / "gpt.onnx").graph
    gathers = [n for n in graph.node if n.op_type == "Gather"]
    assert len(gathers) == 2 and sorted(g.input[1] == "input" for g in gathers) == [False, True]
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    batch = np.array([TOK.encode(name)[:4] for name in NAMES])  # 5 names of 4 tokens
    session = ort.InferenceSession(str(tmp_path / "gpt.onnx"))
    (logits,) = session.run(None, {"input": batch})
    expected = model(batch).data
    assert logits.shape == expected.shape == (5, 4, TOK.vocab_size)
    # float32 against our float64, as every export test
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-6)


def test_an_export_whose_output_does_not_look_up_its_ids_is_refused(tmp_path):
    pytest.importorskip("onnx")
    from nn import export_onnx

    class Shifted(gpt.MicroGPT):
        def forward(self, ids):
            return super().forward(ids + 1)  # a new array: the lookup no longer sees the input

    model = Shifted(TOK.vocab_size, **TINY, rng=0)
    with pytest.raises(ValueError, match="does not depend on its integer input"):
        export_onnx(model, np.array([[0, 1, 2]]), tmp_path / "never.onnx")
    assert not (tmp_path / "never.onnx").exists()


# ------------------------------------------------------------------ the names
CENSUS = "MARY           2.629  2.629      1\nPATRICIA       1.073  3.702      2\n"


def write_names(folder, female=CENSUS, male="JAMES          3.318  3.318      1\nMARY 0.1 0.2 3\n"):
    (folder / "dist.female.first").write_text(female)
    if male is not None:
        (folder / "dist.male.first").write_text(male)
    return folder


def test_the_census_names_load_lower_cased_once_each_in_file_order():
    pytest.importorskip("names")
    names = datasets.names()
    assert len(names) == 5163 and len(set(names)) == len(names)  # 5,494 lines, 331 in both
    assert names[:3] == ["mary", "patricia", "linda"] and "james" in names
    assert all(n.isascii() and n.isalpha() and n.islower() for n in names)
    assert gpt.Tokenizer(names).vocab_size == 27


def test_a_names_folder_is_read_in_order_without_repeats(tmp_path):
    assert datasets.names(write_names(tmp_path)) == ["mary", "patricia", "james"]


@pytest.mark.parametrize(
    "female, male, message",
    [
        (
            "MARY 2.6 2.6 1\n<script> 1 2 3\n",
            "",
            r"dist.female.first line 2: expected .*'<script> 1 2 3'",
        ),
        ("MARY 2.6 2.6\n", "", r"dist.female.first line 1: expected 'NAME freq cumulative rank'"),
        ("Ma-ry 2.6 2.6 1\n", "", r"line 1"),
        ("\xe9LISE 2.6 2.6 1\n", "", r"dist.female.first line 1"),
        ("A" * 40 + " 1.0 1.0 1\n", "", r"line 1"),
        ("MARY 2.6 2.6 1\n" * 80_000, "", r"dist.female.first is larger than 1,048,576 bytes"),
        (CENSUS, None, r"no names file dist.male.first in .*pip install"),
        ("\n", "\n", r"hold no names"),
    ],
)
def test_a_bad_names_file_is_one_clear_line(tmp_path, female, male, message):
    with pytest.raises(ValueError, match=message) as info:
        datasets.names(write_names(tmp_path, female, male))
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def example():
    """examples/microgpt.py as a module, to call its main()."""
    spec = importlib.util.spec_from_file_location("microgpt_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_names_package_the_example_says_how_to_get_it(example, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "names", None)  # import names now fails
    assert example.main(["--steps", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err == (
        'microgpt: the census names are not installed: pip install -e ".[data]" '
        "(or: pip install names==0.3.0)"
    )


def test_the_example_trains_in_scalar_mode_and_saves_the_tensor_model(
    example, tmp_path, monkeypatch, capsys
):
    pytest.importorskip("names")
    monkeypatch.setattr(example, "OUT", tmp_path)
    assert example.main(["--mode", "scalar", "--steps", "2", "--samples", "2"]) == 0
    out = capsys.readouterr().out
    assert "4,192 scalar Values, 4,192 parameters, scalar mode" in out
    assert "step     2 / 2  loss" in out and "loaded it back: the same logits" in out
    saved = Module.load(tmp_path / "microgpt.safetensors")
    assert type(saved).__name__ == "MicroGPT" and saved.config()["n_embd"] == 16


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--samples", "-1"], ["--mode", "matrix"]])
def test_bad_arguments_exit_with_one_line(example, argv, capsys):
    with pytest.raises(SystemExit) as info:
        example.main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("microgpt.py: error:")


def test_a_model_file_cannot_ask_for_a_huge_gpt(tmp_path):
    import json

    from safetensors.numpy import save_file

    model = tiny_model()
    config = {**model.config(), "vocab_size": 10**6}  # 10**6 x 8 x 2 numbers: 128 MB
    meta = json.dumps({"class": "MicroGPT", "config": config})
    save_file(model.state_dict(), tmp_path / "huge.safetensors", metadata={"backproplab": meta})
    with pytest.raises(ValueError, match=r"config needs 16,000,\d+ numbers, the file holds 1,024"):
        Module.load(tmp_path / "huge.safetensors")
