"""Builds the small CNN the tch backend is tested on, exports it to TorchScript, and stores
Captum's Occlusion, Saliency, InputXGradient and IntegratedGradients results on it as fixtures.

Run with the test environment's Python (scripts/setup-libtorch.sh installs torch and captum):

    .venv/bin/python scripts/make_torchscript_fixture.py

Writes backends/tch/tests/fixtures/small_cnn.pt, small_cnn_occlusion.json and
small_cnn_gradients.json (which also holds the weights, so that other frameworks can rebuild
the network). The weights and the input come from fixed seeds, so running it again gives the
same files (up to the TorchScript archive's metadata).
"""

import json
import pathlib

import captum
import torch
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency

OUT = pathlib.Path(__file__).resolve().parent.parent / "backends" / "tch" / "tests" / "fixtures"


class SmallCnn(torch.nn.Module):
    """Convolutions, pooling, ReLU and a linear layer: (N, 3, 11, 11) -> (N, 4) logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(6, 8, 3)
        self.head = torch.nn.Linear(8, 4)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


def occlusion(model, x, window, strides, baseline, target):
    return Occlusion(model).attribute(
        x, sliding_window_shapes=window, strides=strides, baselines=baseline, target=target
    )


IG_METHODS = ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"]
IG_STEPS, IG_INTERNAL_BATCH_SIZE = 16, 6


def flat(t):
    return {"dtype": str(t.dtype), "data": t.detach().flatten().tolist()}


def gradient_fixture(model, model64, x, baseline, target):
    """Captum's gradient methods on the float64 copy of the network (the exact reference), and
    Saliency and Gauss-Legendre IG on the float32 network."""
    x64 = x.double()
    results = {
        "saliency_abs_float64": flat(Saliency(model64).attribute(x64, target=target, abs=True)),
        "saliency_signed_float64": flat(Saliency(model64).attribute(x64, target=target, abs=False)),
        "input_x_gradient_float64": flat(InputXGradient(model64).attribute(x64, target=target)),
        "saliency_abs_float32": flat(Saliency(model).attribute(x, target=target, abs=True)),
    }
    for method in IG_METHODS:
        attr, delta = IntegratedGradients(model64).attribute(
            x64, baselines=baseline, target=target, n_steps=IG_STEPS, method=method,
            internal_batch_size=IG_INTERNAL_BATCH_SIZE, return_convergence_delta=True)
        results[f"ig_{method}_float64"] = flat(attr)
        results[f"ig_{method}_float64_delta"] = flat(delta)
    attr, delta = IntegratedGradients(model).attribute(
        x, baselines=baseline, target=target, n_steps=IG_STEPS, method="gausslegendre",
        internal_batch_size=IG_INTERNAL_BATCH_SIZE, return_convergence_delta=True)
    results["ig_gausslegendre_float32"] = flat(attr)
    results["ig_gausslegendre_float32_delta"] = flat(delta)
    return results


def main():
    torch.manual_seed(20261128)
    model = SmallCnn().eval()
    x = torch.randn(2, 3, 11, 11)
    # Window 4 with stride 3 on 11 positions: starts 0, 3, 6, 9; the last window is cropped.
    window, strides, baseline, target = (3, 4, 4), (3, 3, 3), 0.1, [1, 3]

    OUT.mkdir(parents=True, exist_ok=True)
    torch.jit.script(model).save(str(OUT / "small_cnn.pt"))

    with torch.no_grad():
        a32 = occlusion(model, x, window, strides, baseline, target)
        model64 = SmallCnn().double().eval()
        model64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        a64 = occlusion(model64, x.double(), window, strides, baseline, target)

    fixture = {
        "about": "Captum Occlusion on small_cnn.pt; made by scripts/make_torchscript_fixture.py",
        "captum_version": captum.__version__,
        "torch_version": torch.__version__,
        "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
        "window": list(window),
        "strides": list(strides),
        "baseline": baseline,
        "target": target,
        "captum_float32": {"dtype": str(a32.dtype), "data": a32.flatten().tolist()},
        "captum_float64": {"dtype": str(a64.dtype), "data": a64.flatten().tolist()},
    }
    (OUT / "small_cnn_occlusion.json").write_text(json.dumps(fixture) + "\n")

    gradients = {
        "about": "Captum gradient methods on small_cnn.pt; made by scripts/make_torchscript_fixture.py",
        "captum_version": captum.__version__,
        "torch_version": torch.__version__,
        "input": fixture["input"],
        "baseline": baseline,
        "target": target,
        "ig_steps": IG_STEPS,
        "ig_internal_batch_size": IG_INTERNAL_BATCH_SIZE,
        "weights": {name: {"shape": list(v.shape), "data": v.flatten().tolist()}
                    for name, v in model.state_dict().items()},
        "results": gradient_fixture(model, model64, x, baseline, target),
    }
    (OUT / "small_cnn_gradients.json").write_text(json.dumps(gradients) + "\n")
    print(f"wrote {OUT}: Captum {captum.__version__}, torch {torch.__version__}, "
          f"float32 result {a32.dtype}, float64 result {a64.dtype}")


if __name__ == "__main__":
    main()
