"""Trains a logistic regression on scikit-learn's breast cancer table (569 tumours, 30 features,
`breast_cancer.csv` from the scikit-learn wheel) and writes it as an ONNX classifier, with what
the tests check the explanations against:

    python train_breast_cancer.py FOLDER   # FOLDER holds breast_cancer.csv

Writes into FOLDER:
- `breast_cancer_logistic.onnx`: input `features` (N, 30) raw values, output `logits` (N, 2) =
  [0, Σ_i w_i (x_i − μ_i) / σ_i + c] (class 1: benign, as in scikit-learn);
- `breast_cancer_examples.npy` (f32, the first 10 rows), `breast_cancer_labels.npy` (i64, all
  569 labels), `breast_cancer_features.npy` (f32, all rows), `breast_cancer_mean.npy` (f32, μ);
- `breast_cancer_weights.json`: the effective weights `w_i / σ_i` and `c`, so a test can state
  FeatureAblation's exact map on the logit, `(w_i / σ_i)(x_i − μ_i)`.

Full-batch gradient descent on the mean log-loss with a small L2 penalty, 2000 steps from zero:
deterministic. Needs numpy and onnx (the converter's environment).
"""

import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    folder = pathlib.Path(sys.argv[1])
    rows = (folder / "breast_cancer.csv").read_text().strip().splitlines()[1:]
    data = np.array([[float(v) for v in r.split(",")] for r in rows])
    x, y = data[:, :30], data[:, 30].astype(np.int64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    w, c = np.zeros(30), 0.0
    for _ in range(2000):
        p = 1 / (1 + np.exp(-(z @ w + c)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + 1e-3 * w)
        c -= 0.5 * float(np.mean(p - y))
    accuracy = float(np.mean(((z @ w + c) > 0) == (y == 1)))
    # Effective weights on the raw features, rounded to f32 so the ONNX graph holds them exactly.
    scale = (w / std).astype(np.float32)
    mean32 = mean.astype(np.float32)
    weights = np.zeros((30, 2), dtype=np.float32)
    weights[:, 1] = scale
    bias = np.array([0.0, c], dtype=np.float32)
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"]),
        helper.make_node("MatMul", ["centred", "W"], ["scores"]),
        helper.make_node("Add", ["scores", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "breast_cancer_logistic",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 30])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(mean32, "mean"), numpy_helper.from_array(weights, "W"),
         numpy_helper.from_array(bias, "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tiled-occlusion")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "breast_cancer_logistic.onnx"))
    np.save(folder / "breast_cancer_examples.npy", x[:10].astype(np.float32))
    np.save(folder / "breast_cancer_features.npy", x.astype(np.float32))
    np.save(folder / "breast_cancer_labels.npy", y)
    np.save(folder / "breast_cancer_mean.npy", mean32)
    (folder / "breast_cancer_weights.json").write_text(json.dumps(
        {"weights": [float(v) for v in scale], "bias": float(np.float32(c)), "train_accuracy": accuracy}) + "\n")
    print(f"breast cancer logistic regression: training accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
