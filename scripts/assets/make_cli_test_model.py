"""Writes the tiny ONNX classifier the CLI's tests use when no real model is needed:
input (N, 3, 16, 16) NCHW, output (N, 3) = flatten(x) · W + b, with W from a fixed seed and
class 0 reading only the top-left 8×8 quarter of every channel (so its maps are predictable).

    python scripts/assets/make_cli_test_model.py cli/tests/fixtures/tiny_classifier.onnx
    python scripts/assets/make_cli_test_model.py cli/tests/fixtures/nan_classifier.onnx nan
    python scripts/assets/make_cli_test_model.py cli/tests/fixtures/log_classifier.onnx log

With `nan`, the same classifier with every output multiplied by NaN: a model that misbehaves.
With `log`, the classifier reads log(x + 1): finite on photos (x ≥ 0), infinite or NaN where
an occluded input holds -1 (a model that misbehaves only on occluded copies).

Needs numpy and onnx.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    rng = np.random.default_rng(7)
    w = rng.normal(0.0, 0.05, size=(3 * 16 * 16, 3)).astype(np.float32)
    mask = np.zeros((3, 16, 16), dtype=np.float32)
    mask[:, :8, :8] = 1.0
    w[:, 0] = mask.reshape(-1) * 0.1
    b = np.array([0.0, 0.1, -0.1], dtype=np.float32)
    variant = sys.argv[2] if len(sys.argv) > 2 else ""
    nan = variant == "nan"
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], axis=1),
             helper.make_node("Gemm", ["flat", "W", "b"], ["scores" if nan else "logits"])]
    weights = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "b")]
    if nan:
        nodes.append(helper.make_node("Mul", ["scores", "nan"], ["logits"]))
        weights.append(numpy_helper.from_array(np.array([np.nan], dtype=np.float32), "nan"))
    if variant == "log":
        nodes = [helper.make_node("Add", ["input", "one"], ["shifted"]),
                 helper.make_node("Log", ["shifted"], ["logs"]),
                 helper.make_node("Flatten", ["logs"], ["flat"], axis=1)] + nodes[1:]
        weights.append(numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one"))
    graph = helper.make_graph(
        nodes,
        {"nan": "nan_classifier", "log": "log_classifier"}.get(variant, "tiny_classifier"),
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])],
        weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tiled-occlusion")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
