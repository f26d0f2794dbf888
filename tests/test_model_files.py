"""Model files: safetensors and legacy .npz round trips, atomic saves, hostile files."""

import io
import json
import os
import re
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import load_file
from safetensors.numpy import save as st_save

from nn import (
    ELU,
    GELU,
    MLP,
    SGD,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Layer,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    mse_loss,
)

X = np.random.default_rng(7).normal(size=(6, 3))


def models():
    return {
        "mlp_scalar": MLP(3, [4, 2], activation="relu", rng=0),
        "mlp_vectorized": MLP(3, [5, 4, 1], output_activation="sigmoid", vectorized=True, rng=1),
        "mlp_float32": MLP(3, [4, 2], vectorized=True, dtype="float32", rng=2),
        "linear_no_bias": Linear(3, 2, bias=False, rng=3),
        "sequential": Sequential(
            Linear(3, 8, rng=4), Tanh(), Dropout(0.2), Linear(8, 4, rng=5), ReLU(), Sigmoid()
        ),
        "nested": Sequential(Sequential(Linear(3, 2, rng=6), Tanh()), Linear(2, 1, rng=7)),
        "neuron": Neuron(3, activation="sigmoid", rng=8),
        "layer": Layer(3, 2, rng=9),
        "norm_mlp": Sequential(
            Linear(3, 6, rng=10),
            BatchNorm1d(6),
            LeakyReLU(0.2),
            LayerNorm(6),
            GELU("tanh"),
            Linear(6, 4, rng=11),
            SiLU(),
            Softplus(),
            ELU(0.5),
            Linear(4, 1, rng=12),
        ),
    }


def outputs(model):
    model.eval()
    if isinstance(model, (Neuron, Layer)) or (isinstance(model, MLP) and not model.vectorized):
        rows = [model(row) for row in X.tolist()]
        return np.array([[v.data for v in r] if isinstance(r, list) else r.data for r in rows])
    return model(X).data


def small_cnn() -> Sequential:
    return Sequential(
        Conv2d(1, 4, 3, padding=1, rng=0),
        BatchNorm2d(4),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 6, 3, rng=1),
        AvgPool2d(2, stride=1),
        Flatten(),
        Linear(6, 3, rng=2),
    )


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
@pytest.mark.parametrize("kind", ["cnn", "norm_mlp", "embedding"])
def test_trained_running_statistics_survive_save_and_load(tmp_path, kind, suffix):
    rng = np.random.default_rng(3)
    if kind == "cnn":
        model, x = small_cnn(), rng.normal(size=(5, 1, 8, 8))
    elif kind == "norm_mlp":
        model, x = models()["norm_mlp"], rng.normal(size=(8, 3))
    else:
        model = Sequential(Embedding(7, 3, rng=0), Flatten(), BatchNorm1d(6))
        x = rng.integers(0, 7, size=(8, 2))
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(3):  # training moves the running statistics away from 0 and 1
        out = model(x)
        loss = mse_loss(out, np.zeros(out.shape))
        opt.zero_grad()
        loss.backward()
        opt.step()
    names = [n for n, _ in model.named_buffers()]
    assert names and all(n.endswith(("running_mean", "running_var")) for n in names)
    assert not np.allclose(dict(model.named_buffers())[names[0]], 0.0)
    model.save(tmp_path / f"m{suffix}")
    back = Module.load(tmp_path / f"m{suffix}")
    for (n, a), (m, b) in zip(model.named_buffers(), back.named_buffers()):
        assert n == m
        np.testing.assert_array_equal(a, b)
    model.eval(), back.eval()
    np.testing.assert_allclose(back(x).data, model(x).data, rtol=0, atol=1e-12)


def test_buffers_are_checked_like_parameters():
    bn = BatchNorm1d(3)
    state = bn.state_dict()
    assert list(state) == ["weight", "b", "running_mean", "running_var"]
    with pytest.raises(ValueError, match="missing .*running_var"):
        bn.load_state_dict({k: v for k, v in state.items() if k != "running_var"})
    with pytest.raises(ValueError, match="buffer 'running_mean' has shape"):
        bn.load_state_dict({**state, "running_mean": np.zeros(4)})
    with pytest.raises(ValueError, match="buffer 'running_var' holds NaN"):
        bn.load_state_dict({**state, "running_var": np.array([1.0, np.nan, 1.0])})
    with pytest.raises(ValueError, match="buffer 'running_mean' is not numeric"):
        bn.load_state_dict({**state, "running_mean": np.array(["a", "b", "c"])})
    np.testing.assert_array_equal(bn.running_var, np.ones(3))  # nothing changed
    bn.load_state_dict({**state, "running_mean": np.array([1, 2, 3])})
    assert bn.running_mean.dtype == np.float64 and bn.running_mean[2] == 3.0


@pytest.mark.parametrize(
    "meta, numbers",
    [
        (
            {
                "class": "Conv2d",
                "config": {"in_channels": 100000, "out_channels": 100000, "kernel_size": 9},
            },
            "810,000,100,000 numbers",
        ),
        (
            {
                "class": "Conv2d",
                "config": {"in_channels": 4000, "out_channels": 4000, "kernel_size": [3, 3]},
            },
            "144,004,000 numbers",
        ),
        ({"class": "BatchNorm2d", "config": {"num_features": 20_000_000}}, "80,000,000 numbers"),
        ({"class": "LayerNorm", "config": {"normalized_shape": [5000, 5000]}}, "50,000,000"),
        (
            {"class": "Embedding", "config": {"num_embeddings": 100000, "embedding_dim": 1000}},
            "100,000,000 numbers",
        ),
    ],
)
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_tiny_file_asking_for_huge_new_layers_is_refused_before_building(
    tmp_path, suffix, meta, numbers
):
    path = tmp_path / f"huge{suffix}"
    if suffix == ".npz":
        path.write_bytes(npz_bytes(meta, {}))
    else:
        path.write_bytes(st_save({}, metadata={"backproplab": json.dumps(meta)}))
    assert path.stat().st_size < 1000
    err, peak = load_peak(path)
    assert isinstance(err, ValueError) and path.name in str(err)
    assert numbers in str(err)
    assert peak < 5_000_000


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
@pytest.mark.parametrize("name", list(models()))
def test_every_model_round_trips_exactly(tmp_path, name, suffix):
    model = models()[name]
    path = tmp_path / f"m{suffix}"
    model.save(path)
    back = Module.load(path)
    assert type(back) is type(model)
    assert repr(back) == repr(model)
    state, loaded = model.state_dict(), back.state_dict()
    assert list(loaded) == list(state)
    for key in state:
        assert loaded[key].dtype == state[key].dtype
        np.testing.assert_array_equal(loaded[key], state[key])
    np.testing.assert_array_equal(outputs(back), outputs(model))


def test_safetensors_file_is_plain_safetensors_with_the_config(tmp_path):
    model = MLP(3, [4, 2], vectorized=True, rng=0)
    model.save(tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    assert sorted(tensors) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    np.testing.assert_array_equal(tensors["layers.1.W"], model.layers[1].W.data)
    from safetensors import safe_open

    with safe_open(tmp_path / "m.safetensors", framework="numpy") as f:
        meta = json.loads(f.metadata()["backproplab"])
    assert meta == {"class": "MLP", "config": model.config()}


def test_format_is_read_from_the_bytes_not_the_name(tmp_path):
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    model.save(tmp_path / "m.safetensors")
    os.rename(tmp_path / "m.safetensors", tmp_path / "renamed.npz")
    np.testing.assert_array_equal(
        Module.load(tmp_path / "renamed.npz")(X[:, :2]).data, model(X[:, :2]).data
    )


def test_npz_written_by_the_old_save_still_loads(tmp_path):
    model = MLP(3, [4, 1], vectorized=True, rng=0)
    meta = json.dumps({"class": "MLP", "config": model.config()})
    np.savez(tmp_path / "old.npz", __meta__=np.array(meta), **model.state_dict())  # the old save
    np.testing.assert_array_equal(Module.load(tmp_path / "old.npz")(X).data, model(X).data)


def test_subclass_load_checks_the_class(tmp_path):
    Linear(2, 2).save(tmp_path / "lin.safetensors")
    with pytest.raises(ValueError, match=r"lin\.safetensors: holds a Linear, not a MLP"):
        MLP.load(tmp_path / "lin.safetensors")


# ------------------------------------------------------------------ saving safely
def test_save_refuses_other_suffixes_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"model\.bin.*\.safetensors or \.npz"):
        MLP(2, [1]).save(tmp_path / "model.bin")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    old = MLP(2, [3, 1], vectorized=True, rng=0)
    path = tmp_path / f"m{suffix}"
    old.save(path)
    before = path.read_bytes()

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3, 1], vectorized=True, rng=1).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_save_gives_a_new_file_the_usual_permissions_and_keeps_an_old_files(tmp_path):
    umask = os.umask(0o022)
    try:
        MLP(2, [1]).save(tmp_path / "new.safetensors")
        assert (tmp_path / "new.safetensors").stat().st_mode & 0o777 == 0o644
        (tmp_path / "old.npz").write_bytes(b"")
        os.chmod(tmp_path / "old.npz", 0o600)
        MLP(2, [1]).save(tmp_path / "old.npz")
        assert (tmp_path / "old.npz").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_a_save_killed_part_way_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    MLP(2, [3, 1], vectorized=True, rng=0).save(path)
    before = path.read_bytes()

    def killed(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        MLP(2, [3, 1], vectorized=True, rng=1).save(path)
    assert path.read_bytes() == before
    assert len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------------ hostile files
def npz_bytes(meta: dict | None, members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if meta is not None:
            text = io.BytesIO()
            np.save(text, np.array(json.dumps(meta)))
            z.writestr("__meta__.npy", text.getvalue())
        for name, data in members.items():
            z.writestr(name + ".npy", data)
    return buf.getvalue()


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def load_peak(path) -> tuple[Exception | None, int]:
    """What Module.load raises, and the peak memory it allocated."""
    tracemalloc.start()
    try:
        Module.load(path)
        err = None
    except Exception as e:
        err = e
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return err, peak


SMALL = {"class": "MLP", "config": {"nin": 2, "nouts": [1], "vectorized": True}}


def small_members() -> dict[str, bytes]:
    return {"layers.0.W": npy(np.zeros((2, 1))), "layers.0.b": npy(np.zeros(1))}


def test_zip_bomb_is_refused_before_it_is_read(tmp_path):
    # 160 MB of zeros in a member of 160 kB: the member is never decompressed
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in small_members().items():
            z.writestr(name + ".npy", data)
        text = io.BytesIO()
        np.save(text, np.array(json.dumps(SMALL)))
        z.writestr("__meta__.npy", text.getvalue())
        with z.open("bomb.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (20_000_000,)}
            )
            chunk = bytes(2**22)
            for _ in range(40):
                f.write(chunk)
    path = tmp_path / "bomb.npz"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 1_000_000
    err, peak = load_peak(path)
    assert isinstance(err, ValueError) and "bomb.npz" in str(err)
    assert "config needs 2 tensors, the file holds 3" in str(err)
    assert peak < 20_000_000


def test_member_claiming_a_huge_shape_is_refused_before_allocating(tmp_path):
    members = small_members()
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (30_000, 30_000)}
    )
    members["layers.0.W"] = header.getvalue() + bytes(1000)
    (tmp_path / "liar.npz").write_bytes(npz_bytes(SMALL, members))
    err, peak = load_peak(tmp_path / "liar.npz")
    assert isinstance(err, ValueError) and "liar.npz" in str(err)
    assert "layers.0.W" in str(err) and "(30000, 30000)" in str(err)
    assert peak < 20_000_000


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_tiny_file_asking_for_a_huge_model_is_refused_before_building(tmp_path, suffix):
    meta = {"class": "Linear", "config": {"nin": 12000, "nout": 12000}}
    path = tmp_path / f"huge{suffix}"
    if suffix == ".npz":
        path.write_bytes(npz_bytes(meta, {}))
    else:
        path.write_bytes(st_save({}, metadata={"backproplab": json.dumps(meta)}))
    assert path.stat().st_size < 1000
    err, peak = load_peak(path)
    assert isinstance(err, ValueError) and path.name in str(err)
    assert "144,012,000 numbers" in str(err)
    assert peak < 5_000_000


class Scale(Module):
    """A layer with no size rule: it holds no parameters, only a number."""

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def config(self) -> dict:
        return {"factor": self.factor}


def test_a_layer_without_a_size_rule_loads_and_does_not_hide_its_neighbours(tmp_path):
    model = Sequential(Linear(3, 2, rng=0), Scale(3.0))
    model.save(tmp_path / "ok.safetensors")
    np.testing.assert_array_equal(Module.load(tmp_path / "ok.safetensors")(X).data, model(X).data)
    meta = {
        "class": "Sequential",
        "children": [
            {"class": "Scale", "config": {"factor": 1.0}},
            {"class": "Linear", "config": {"nin": 12000, "nout": 12000}},
        ],
    }
    path = tmp_path / "huge.safetensors"
    path.write_bytes(st_save({}, metadata={"backproplab": json.dumps(meta)}))
    err, peak = load_peak(path)
    assert "144,012,000 numbers" in str(err)
    assert peak < 5_000_000


def test_config_must_match_the_tensors_held(tmp_path):
    meta = {"class": "MLP", "config": {"nin": 2000, "nouts": [2000], "vectorized": True}}
    path = tmp_path / "m.safetensors"
    path.write_bytes(
        st_save(
            {"layers.0.W": np.zeros((2, 1)), "layers.0.b": np.zeros(1)},
            metadata={"backproplab": json.dumps(meta)},
        )
    )
    err, peak = load_peak(path)
    assert "needs 4,002,000 numbers, the file holds 3" in str(err)
    assert peak < 5_000_000


def test_plain_npy_is_a_clear_error(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"w\.npy: a plain \.npy array"):
        Module.load(tmp_path / "w.npy")


def test_unknown_config_arguments_are_refused(tmp_path):
    meta = {"class": "Linear", "config": {"nin": 2, "nout": 1, "evil": "__import__('os')"}}
    (tmp_path / "m.npz").write_bytes(
        npz_bytes(meta, {"W": npy(np.zeros((2, 1))), "b": npy(np.zeros(1))})
    )
    with pytest.raises(ValueError, match=r"m\.npz: Linear has no arguments \['evil'\]"):
        Module.load(tmp_path / "m.npz")


def test_float32_model_given_numbers_too_large_is_refused(tmp_path):
    model = MLP(2, [1], vectorized=True, dtype="float32", rng=0)
    state = model.state_dict()
    state["layers.0.W"] = np.array([[1e300], [0.0]])
    meta = {"class": "MLP", "config": model.config()}
    (tmp_path / "big.npz").write_bytes(npz_bytes(meta, {k: npy(v) for k, v in state.items()}))
    with pytest.raises(ValueError, match=r"big\.npz: .*layers\.0\.W.*too large for float32"):
        Module.load(tmp_path / "big.npz")


BAD_DESCRIPTIONS = [
    ({"class": "Nonsense", "config": {}}, "unknown model class 'Nonsense'"),
    ({"config": {}}, "no class name"),
    ({"class": "MLP", "config": {"nin": 2, "nouts": [1.5]}}, "'nouts' must be a whole number"),
    ({"class": "MLP", "config": {"nin": True, "nouts": [1]}}, "'nin' must be a whole number"),
    (
        {
            "class": "MLP",
            "config": {"nin": 2, "nouts": [1], "activation": "swish", "vectorized": True},
        },
        "unknown activation",
    ),
    ({"class": "MLP", "config": {"nin": 2, "nouts": [1], "rng": 3}}, "no arguments \\['rng'\\]"),
    ({"class": "Linear", "config": {"nin": 2, "nout": {"a": 1}}}, "not a plain value"),
    ({"class": "Linear", "children": []}, "not built from a list of modules"),
    ({"class": "Sequential", "children": [], "x": 1}, "unexpected entries"),
]


@pytest.mark.parametrize("description, message", BAD_DESCRIPTIONS)
def test_bad_descriptions_are_one_clear_error(tmp_path, description, message):
    path = tmp_path / "d.safetensors"
    path.write_bytes(
        st_save(
            {"layers.0.W": np.zeros((2, 1)), "layers.0.b": np.zeros(1)},
            metadata={"backproplab": json.dumps(description)},
        )
    )
    with pytest.raises(ValueError, match=rf"d\.safetensors: .*{message}"):
        Module.load(path)


def test_deep_nesting_is_refused(tmp_path):
    desc: dict = {"class": "Tanh", "config": {}}
    for _ in range(100):
        desc = {"class": "Sequential", "children": [desc]}
    path = tmp_path / "deep.safetensors"
    path.write_bytes(st_save({}, metadata={"backproplab": json.dumps(desc)}))
    with pytest.raises(ValueError, match="deeper than 32"):
        Module.load(path)


def test_bad_safetensors_headers(tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ValueError, match=r"h\.safetensors: safetensors header .* too large"):
        Module.load(path)
    meta = {"backproplab": json.dumps(SMALL)}
    header = {
        "__metadata__": meta,
        "layers.0.W": {"dtype": "F64", "shape": [2, 1], "data_offsets": [0, 10**9]},
    }
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(16))
    with pytest.raises(ValueError, match="'layers.0.W' has a bad entry"):
        Module.load(path)
    header["layers.0.W"] = {"dtype": "I64", "shape": [2, 1], "data_offsets": [0, 16]}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(16))
    with pytest.raises(ValueError, match="float32/float64 only"):
        Module.load(path)
    path.write_bytes(st_save({"w": np.zeros(2)}))
    with pytest.raises(ValueError, match="no backproplab model description"):
        Module.load(path)


def deflated(path) -> bytes:
    """The .npz at ``path`` rewritten with compressed members (as np.savez_compressed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return buf.getvalue()


def test_compressed_npz_loads_and_damaged_or_encrypted_ones_are_one_value_error(tmp_path):
    path = tmp_path / "m.npz"
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    model.save(path)
    raw = bytearray(deflated(path))
    path.write_bytes(bytes(raw))
    np.testing.assert_array_equal(Module.load(path).layers[0].W.data, model.layers[0].W.data)
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        info = z.infolist()[-1]
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + 8):
        raw[i] ^= 0x5A  # garbage in a deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m\.npz: member"):
        Module.load(path)
    raw = bytearray(npz_bytes(SMALL, small_members()))
    raw[raw.find(b"PK\x01\x02") + 8] |= 1  # the first member says it is encrypted
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m\.npz: "):
        Module.load(path)


@settings(
    max_examples=100, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_damaged_files_load_or_raise_value_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    suffix = data.draw(st.sampled_from([".safetensors", ".npz"]))
    path = folder / f"m{suffix}"
    MLP(2, [3, 1], vectorized=True, rng=0).save(path)
    packed = suffix == ".npz" and data.draw(st.booleans())
    raw = bytearray(deflated(path) if packed else path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path.write_bytes(bytes(raw))
    try:
        Module.load(path)
    except ValueError as err:
        assert path.name in str(err)


# ------------------------------------------------------------------ the red team's files
def _npz_with_one_member(path, payload: bytes, stored: bool = True) -> None:
    import json
    import zipfile

    desc = {"class": "MLP", "config": {"nin": 2000, "nouts": [2000], "vectorized": True}}
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as z:
        b = io.BytesIO()
        np.save(b, np.array(json.dumps(desc)))
        z.writestr("__meta__.npy", b.getvalue())
        z.writestr("layers.0.W.npy", payload)
        z.writestr("layers.0.b.npy", payload)


def test_a_directory_that_lies_about_sizes_is_refused_before_building(tmp_path):
    import tracemalloc

    path = tmp_path / "liar.npz"
    _npz_with_one_member(path, b"0123456789")
    raw = bytearray(path.read_bytes())
    at = 0
    while (at := raw.find(b"PK\x01\x02", at + 1)) >= 0:  # each central directory entry
        name_len = int.from_bytes(raw[at + 28 : at + 30], "little")
        if raw[at + 46 : at + 46 + name_len].startswith(b"layers"):
            raw[at + 24 : at + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    with pytest.raises(ValueError, match="liar.npz.*claims"):
        Module.load(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2**20


def test_a_zip_claiming_many_members_is_refused_from_its_end_record(tmp_path):
    path = tmp_path / "many.npz"
    _npz_with_one_member(path, b"0123456789")
    raw = bytearray(path.read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8 : end + 12] = (60000).to_bytes(2, "little") * 2  # entries here / in all
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="many.npz.*60,000 members"):
        Module.load(path)


@pytest.mark.parametrize("key, value", [("vectorized", "no"), ("vectorized", 0)])
def test_a_switch_in_a_config_must_be_true_or_false(tmp_path, key, value):
    from nn import MLP

    path = tmp_path / "m.npz"
    MLP(2, [3, 1], vectorized=True, rng=0).save(path)
    data = dict(np.load(path, allow_pickle=False))
    meta = json.loads(str(data["__meta__"]))
    meta["config"][key] = value
    data["__meta__"] = np.array(json.dumps(meta))
    np.savez(path, **data)
    with pytest.raises(ValueError, match="must be true or false"):
        Module.load(path)


def test_the_safetensors_checked_are_the_safetensors_read(tmp_path, monkeypatch):
    import nn.model_files

    path = tmp_path / "m.safetensors"
    checked = MLP(2, [3, 1], vectorized=True, rng=0)
    checked.save(path)
    MLP(2, [3, 1], vectorized=True, rng=1).save(tmp_path / "other.safetensors")
    real_build = nn.model_files.build_checked

    def build_then_swap(*args, **kwargs):  # another file takes the path after the checks
        model = real_build(*args, **kwargs)
        os.replace(tmp_path / "other.safetensors", path)
        return model

    monkeypatch.setattr(nn.model_files, "build_checked", build_then_swap)
    loaded = Module.load(path)
    for name, value in checked.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)


@pytest.mark.parametrize(
    "w_range, b_range, message",
    [
        ((0, 16), (8, 16), "overlaps another or leaves a gap"),
        ((16, 32), (0, 8), "overlaps another or leaves a gap"),
        ((0, 16), (24, 32), "overlaps another or leaves a gap"),
        ((0, 16), (16, 24), "hold 24 bytes, the file's data has 32"),
    ],
)
def test_safetensors_data_must_tile_the_file(tmp_path, w_range, b_range, message):
    header = {
        "__metadata__": {"backproplab": json.dumps(SMALL)},
        "layers.0.W": {"dtype": "F64", "shape": [2, 1], "data_offsets": list(w_range)},
        "layers.0.b": {"dtype": "F64", "shape": [1], "data_offsets": list(b_range)},
    }
    text = json.dumps(header).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(32))
    with pytest.raises(ValueError, match=rf"t\.safetensors: .*{message}"):
        Module.load(path)


def _one_layer_file(path, description: dict, tensors: dict) -> None:
    path.write_bytes(st_save(tensors, metadata={"backproplab": json.dumps(description)}))


CONV = {"in_channels": 1, "out_channels": 1, "kernel_size": [1, 1], "bias": False}
CONV_WEIGHT = {"weight": np.ones((1, 1, 1, 1))}


@pytest.mark.parametrize(
    "description, tensors, message",
    [  # each would ask gigabytes of the first forward pass on a 1x1 image
        (
            {"class": "Conv2d", "config": {**CONV, "padding": [30000, 30000]}},
            CONV_WEIGHT,
            r"Conv2d has padding \[30000, 30000\].* 3,600,120,001 numbers",
        ),
        (
            {"class": "Conv2d", "config": {**CONV, "padding": 30000, "dilation": 3}},
            CONV_WEIGHT,
            r"Conv2d has padding \[30000, 30000\]",
        ),
        (
            {"class": "MaxPool2d", "config": {"kernel_size": 30001, "padding": 15000}},
            {},
            r"MaxPool2d has padding \[15000, 15000\].* 900,060,001 numbers",
        ),
        (
            {
                "class": "AvgPool2d",
                "config": {"kernel_size": [20001, 1001], "padding": [10000, 500]},
            },
            {},
            r"AvgPool2d has padding \[10000, 500\].* 20,021,001 numbers",
        ),
        (
            {"class": "Conv2d", "config": {**CONV, "padding": -1}},
            CONV_WEIGHT,
            r"Conv2d: 'padding' must be a whole number from 0",
        ),
        (
            {"class": "Conv2d", "config": {**CONV, "stride": [1, 0]}},
            CONV_WEIGHT,
            r"'stride' must be a whole number from 1",
        ),
        (
            {"class": "Conv2d", "config": {**CONV, "dilation": [1, 2, 3]}},
            CONV_WEIGHT,
            r"'dilation' must be a whole number from 1 .* or a pair of them",
        ),
    ],
)
def test_conv_and_pool_geometry_is_bounded_like_the_weights(
    tmp_path, description, tensors, message
):
    path = tmp_path / "geometry.safetensors"
    _one_layer_file(path, description, tensors)
    err, peak = load_peak(path)
    assert isinstance(err, ValueError), err
    assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
    assert re.search(message, str(err)), str(err)
    assert peak < 5_000_000


def test_usual_conv_and_pool_geometry_still_loads(tmp_path):
    conv = Conv2d(3, 8, 5, stride=2, padding=2, dilation=2, rng=0)
    pool = MaxPool2d(3, stride=2, padding=1)
    for model in (conv, pool, AvgPool2d((4, 2), padding=(2, 1))):
        model.save(tmp_path / "ok.safetensors")
        assert repr(Module.load(tmp_path / "ok.safetensors")) == repr(model)


def test_a_directory_given_to_load_is_one_clear_line(tmp_path):
    with pytest.raises(
        ValueError, match=rf"^{re.escape(str(tmp_path))}: a directory, not a model file$"
    ):
        Module.load(tmp_path)
    with pytest.raises(FileNotFoundError):  # as open() says it, naming the path
        Module.load(tmp_path / "missing.safetensors")
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # open() would wait for a writer forever
    with pytest.raises(ValueError, match=r"pipe\.safetensors: not a regular file"):
        Module.load(fifo)


@pytest.mark.parametrize("state", ["m.safetensors", ["W", "b"], None])
def test_load_state_dict_of_something_else_than_a_dict_says_so(state):
    with pytest.raises(TypeError, match=r"load_state_dict takes a dict .* Module\.load"):
        Linear(2, 1).load_state_dict(state)


def test_a_users_class_named_as_ours_never_replaces_ours_for_load(tmp_path):
    import nn

    class Linear(Module):  # a user's own class that happens to share a name with ours
        def __init__(self, n: int = 1) -> None:
            self.n = n

        def forward(self, x):
            return x * self.n

        def config(self) -> dict:
            return {"n": self.n}

    nn.Linear(3, 2, rng=0).save(tmp_path / "ours.safetensors")
    Linear(5).save(tmp_path / "theirs.safetensors")
    ours, theirs = (Module.load(tmp_path / f"{n}.safetensors") for n in ("ours", "theirs"))
    assert type(ours) is nn.Linear and ours.nout == 2
    assert type(theirs) is Linear and theirs.n == 5
    # a user's class whose name is free keeps its plain name in the file (as before)
    assert json.loads(_meta(tmp_path / "theirs.safetensors"))["class"].endswith(".Linear")
    Sequential(Scale(3.0)).save(tmp_path / "scale.safetensors")
    assert json.loads(_meta(tmp_path / "scale.safetensors"))["children"][0]["class"] == "Scale"


def test_a_class_of_ours_defined_after_a_users_of_that_name_takes_the_name():
    from nn.model_config import file_name

    class Softmax2(Module):  # the user's, first
        pass

    assert file_name(Softmax2) == "Softmax2"

    # then a module of nn defines one (as a module of nn imported later would)
    ours = type("Softmax2", (Module,), {"__module__": "nn.later"})
    assert file_name(ours) == "Softmax2"
    assert file_name(Softmax2).endswith("<locals>.Softmax2")
    with pytest.raises(TypeError, match="two Module classes named 'Softmax2'"):
        type("Softmax2", (Module,), {"__module__": "nn.other"})


def _meta(path) -> str:
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        return f.metadata()["backproplab"]
