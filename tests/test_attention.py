"""nn.attention: rms_norm / RMSNorm, scaled_dot_product_attention and CausalSelfAttention,
against finite differences and PyTorch (values, gradients, second derivatives; float64)."""

import numpy as np
import pytest

from autograd import Value, grad, gradcheck
from nn import (
    CausalSelfAttention,
    Module,
    RMSNorm,
    rms_norm,
    scaled_dot_product_attention,
    to_torch,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(26)


def _random(*shape):
    return RNG.normal(size=shape)


def _pair(a):
    """The same numbers as one of ours and one of torch's, both needing a gradient."""
    return Value(a), torch.tensor(a, requires_grad=True)


def _math_sdpa(*args, **kwargs):
    """torch's reference attention (its math kernel, which has second derivatives)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(*args, **kwargs)


# ------------------------------------------------------------------ rms_norm
@pytest.mark.parametrize("shape, normalized", [((4, 8), (8,)), ((2, 3, 4), (3, 4)), ((5,), (5,))])
@pytest.mark.parametrize("eps", [1e-5, 0.0])
def test_rms_norm_equals_torch_with_gradients(shape, normalized, eps):
    (x, tx), (w, tw) = _pair(_random(*shape)), _pair(_random(*normalized))
    out, tout = rms_norm(x, normalized, w, eps), F.rms_norm(tx, normalized, tw, eps)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    upstream = _random(*shape)
    (out * upstream).sum().backward()
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_rms_norm_second_derivatives_equal_torch():
    (x, tx), (w, tw) = _pair(_random(3, 6)), _pair(_random(6))
    c = _random(3, 6)
    gx, gw = grad((rms_norm(x, 6, w) * c).sum().tanh(), [x, w], create_graph=True)
    second = grad((gx * gx).sum() + (gw * gw * gw).sum(), [x, w])
    tgx, tgw = torch.autograd.grad(
        (F.rms_norm(tx, (6,), tw, 1e-5) * torch.tensor(c)).sum().tanh(), [tx, tw], create_graph=True
    )
    tsecond = torch.autograd.grad((tgx * tgx).sum() + (tgw**3).sum(), [tx, tw])
    for ours, theirs in zip(second, tsecond):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-11)


def test_rms_norm_gradcheck():
    assert gradcheck(
        lambda x, w: (rms_norm(x, 4, w) ** 2).sum(), Value(_random(3, 4)), Value(_random(4))
    )


def test_rms_norm_matches_its_formula_and_defaults_to_the_last_axis():
    x = _random(2, 5)
    expected = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(rms_norm(x).data, expected, rtol=1e-14)


def test_rms_norm_module_is_torchs_rmsnorm_and_round_trips(tmp_path):
    norm = RMSNorm((3, 4), eps=1e-6)
    norm.weight.data = _random(3, 4)
    x = _random(2, 3, 4)
    theirs = to_torch(norm)
    assert isinstance(theirs, torch.nn.RMSNorm) and theirs.eps == 1e-6
    np.testing.assert_allclose(
        theirs(torch.tensor(x)).detach().numpy(), norm(x).data, rtol=1e-12, atol=1e-14
    )
    norm.save(tmp_path / "norm.safetensors")
    back = Module.load(tmp_path / "norm.safetensors")
    assert back.config() == norm.config()
    np.testing.assert_array_equal(back(x).data, norm(x).data)
    plain = RMSNorm(4, elementwise_affine=False)
    assert plain.parameters() == [] and isinstance(to_torch(plain), torch.nn.RMSNorm)


# ------------------------------------------------------------------ attention
MASKS = {
    "none": lambda L, S: None,
    "bool": lambda L, S: RNG.random((L, S)) < 0.7,
    "float": lambda L, S: _random(L, S),
}


@pytest.mark.parametrize("mask_kind", list(MASKS))
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("L, S", [(5, 5), (3, 6)])
def test_attention_equals_torch_with_gradients(mask_kind, causal, L, S):
    mask = MASKS[mask_kind](L, S)
    if mask is not None and mask.dtype == bool:
        mask[:, 0] = True  # every query sees some key (empty rows are tested apart)
    (q, tq), (k, tk), (v, tv) = (
        _pair(_random(2, 3, L, 4)),
        _pair(_random(2, 3, S, 4)),
        _pair(_random(2, 3, S, 5)),
    )
    out = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
    tmask = None if mask is None else torch.tensor(mask)
    if causal:  # torch takes one or the other: give it both as one boolean mask
        tri = torch.ones(L, S, dtype=torch.bool).tril()
        tmask = (
            tri
            if tmask is None
            else (tri & tmask if tmask.dtype == torch.bool else tmask.masked_fill(~tri, -torch.inf))
        )
    tout = _math_sdpa(tq, tk, tv, attn_mask=tmask)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-13)
    upstream = _random(*out.shape)
    (out * upstream).sum().backward()
    (tout * torch.tensor(upstream)).sum().backward()
    for ours, theirs in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_attention_causal_flag_equals_torchs_is_causal():
    (q, tq), (k, tk), (v, tv) = (_pair(_random(4, 6, 3)) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v, causal=True, scale=0.3)
    tout = _math_sdpa(tq, tk, tv, is_causal=True, scale=0.3)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_attention_second_derivatives_equal_torch():
    (q, tq), (k, tk), (v, tv) = (_pair(_random(2, 4, 3)) for _ in range(3))
    c = _random(2, 4, 3)

    def loss(a, b, w, attend, weight):
        return (attend(a, b, w) * weight).sum().tanh()

    gs = grad(
        loss(q, k, v, lambda a, b, w: scaled_dot_product_attention(a, b, w, causal=True), c),
        [q, k, v],
        create_graph=True,
    )
    second = grad(sum((g * g).sum() for g in gs), [q, k, v])
    tgs = torch.autograd.grad(
        loss(tq, tk, tv, lambda a, b, w: _math_sdpa(a, b, w, is_causal=True), torch.tensor(c)),
        [tq, tk, tv],
        create_graph=True,
    )
    tsecond = torch.autograd.grad(sum((g * g).sum() for g in tgs), [tq, tk, tv])
    for ours, theirs in zip(second, tsecond):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-8, atol=1e-11)


def test_attention_gradcheck_with_a_mask():
    mask = np.array([[True, False, True], [True, True, False]])
    assert gradcheck(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, mask=mask, causal=True).sum(),
        Value(_random(2, 2)),
        Value(_random(3, 2)),
        Value(_random(3, 2)),
    )


def test_a_query_that_may_see_no_key_gets_zeros_as_in_torch():
    mask = np.ones((3, 4), dtype=bool)
    mask[1] = False
    (q, tq), (k, tk), (v, tv) = _pair(_random(3, 2)), _pair(_random(4, 2)), _pair(_random(4, 2))
    out = scaled_dot_product_attention(q, k, v, mask=mask)
    tout = _math_sdpa(tq, tk, tv, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert not out.data[1].any() and np.isfinite(out.data).all()
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(q.grad, tq.grad.numpy(), atol=1e-13)
    assert not q.grad[1].any()


def test_attention_leading_axes_broadcast():
    q, k, v = _random(2, 1, 3, 4), _random(5, 3, 4), _random(1, 3, 2)
    out = scaled_dot_product_attention(q, k, v)
    expected = np.stack(
        [
            np.stack([scaled_dot_product_attention(q[i, 0], k[j], v[0]).data for j in range(5)])
            for i in range(2)
        ]
    )
    assert out.shape == (2, 5, 3, 2)
    np.testing.assert_allclose(out.data, expected, rtol=1e-13)


# ------------------------------------------------------------------ the layer
def test_causal_self_attention_is_torchs_multihead_attention_with_gradients():
    layer = CausalSelfAttention(8, 2, rng=1)
    theirs = to_torch(layer)
    assert isinstance(theirs.attn, torch.nn.MultiheadAttention)
    x = _random(3, 5, 8)
    tx = torch.tensor(x, requires_grad=True)
    xv = Value(x)
    out, tout = layer(xv), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-13)
    upstream = _random(3, 5, 8)
    (out * upstream).sum().backward()
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xv.grad, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    wq, wk, wv = theirs.attn.in_proj_weight.grad.numpy().reshape(3, 8, 8)
    for ours, theirs_grad in ((layer.Wq, wq), (layer.Wk, wk), (layer.Wv, wv)):
        np.testing.assert_allclose(ours.grad, theirs_grad.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        layer.Wo.grad, theirs.attn.out_proj.weight.grad.numpy().T, rtol=1e-9, atol=1e-12
    )


def test_causal_self_attention_never_looks_ahead():
    layer = CausalSelfAttention(4, 2, rng=0)
    x = _random(6, 4)
    later = x.copy()
    later[3:] = _random(3, 4)  # change positions 3, 4, 5
    np.testing.assert_array_equal(layer(x).data[:3], layer(later).data[:3])
    assert not np.allclose(layer(x).data[3:], layer(later).data[3:])


def test_causal_self_attention_gradcheck_and_round_trip(tmp_path):
    layer = CausalSelfAttention(4, 2, rng=3)
    assert gradcheck(lambda x: (layer(x) ** 2).sum(), Value(_random(3, 4)))
    layer.save(tmp_path / "attn.safetensors")
    back = Module.load(tmp_path / "attn.safetensors")
    x = _random(3, 4)
    np.testing.assert_array_equal(back(x).data, layer(x).data)


# ------------------------------------------------------------------ hostile input
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rms_norm(np.ones((2, 3)), 4), r"rms_norm: normalized_shape \(4,\).*\(2, 3\)"),
        (lambda: rms_norm(np.ones(3), (2, 3)), r"rms_norm: normalized_shape \(2, 3\).*\(3,\)"),
        (lambda: rms_norm(np.ones((2, 3)), 3, np.ones(2)), r"rms_norm: weight .*\(3,\).*\(2,\)"),
        (lambda: rms_norm(np.ones(3), eps=-1.0), r"rms_norm: eps .* -1.0"),
        (lambda: rms_norm(np.ones(3), eps=float("nan")), r"rms_norm: eps .* nan"),
        (lambda: rms_norm(np.float64(2.0)), r"rms_norm: .*shape \(\)"),
        (lambda: RMSNorm(0), r"RMSNorm: normalized_shape .* 0"),
        (
            lambda: scaled_dot_product_attention(np.ones(4), np.ones((3, 4)), np.ones((3, 4))),
            r"scaled_dot_product_attention: .*at least 2 .*q \(4,\)",
        ),
        (
            lambda: scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 5)), np.ones((3, 4))),
            r"scaled_dot_product_attention: .*q \(2, 4\), k \(3, 5\), v \(3, 4\)",
        ),
        (
            lambda: scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 4)), np.ones((2, 4))),
            r"scaled_dot_product_attention: .*k \(3, 4\), v \(2, 4\)",
        ),
        (
            lambda: scaled_dot_product_attention(
                np.ones((2, 2, 4)), np.ones((3, 3, 4)), np.ones((3, 3, 4))
            ),
            r"scaled_dot_product_attention: the leading axes of q \(2, 2, 4\)",
        ),
        (
            lambda: scaled_dot_product_attention(
                np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 4)), mask=np.ones((3, 2), bool)
            ),
            r"scaled_dot_product_attention: a mask of shape \(3, 2\) .*\(2, 3\)",
        ),
        (
            lambda: scaled_dot_product_attention(
                np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 4)), mask=np.array([["a"] * 3] * 2)
            ),
            r"scaled_dot_product_attention: mask must be booleans or numbers",
        ),
        (lambda: CausalSelfAttention(6, 4), r"CausalSelfAttention: n_embd \(6\) .* n_head \(4\)"),
        (lambda: CausalSelfAttention(0, 1), r"CausalSelfAttention: n_embd \(0\)"),
        (
            lambda: CausalSelfAttention(4, 2, rng=0)(np.ones((3, 5))),
            r"CausalSelfAttention: expected inputs \(\.\.\., T, 4\), got shape \(3, 5\)",
        ),
        (
            lambda: CausalSelfAttention(4, 2, rng=0)(np.ones(4)),
            r"CausalSelfAttention: .*got shape \(4,\)",
        ),
    ],
)
def test_hostile_shapes_get_one_line_naming_the_op_and_the_shapes(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------ ONNX
@pytest.mark.parametrize("make", [lambda: RMSNorm(8), lambda: CausalSelfAttention(8, 2, rng=4)])
def test_onnxruntime_reproduces_the_layers(tmp_path, make):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from nn import export_onnx

    layer = make()
    x = _random(3, 5, 8)  # the sequence length (5) is fixed in the file: the causal mask
    export_onnx(layer, x[:1], tmp_path / "layer.onnx")
    session = ort.InferenceSession(str(tmp_path / "layer.onnx"), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input": x.astype(np.float32)})[0]
    np.testing.assert_allclose(out, layer(x).data, rtol=1e-5, atol=1e-5)
