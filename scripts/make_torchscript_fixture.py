"""Builds the small CNN the tch backend is tested on, exports it to TorchScript, and stores
Captum's Occlusion result on it as a fixture.

Run with the test environment's Python (scripts/setup-libtorch.sh installs torch and captum):

    .venv/bin/python scripts/make_torchscript_fixture.py

Writes backends/tch/tests/fixtures/small_cnn.pt and small_cnn_occlusion.json. The weights and
the input come from fixed seeds, so running it again gives the same files (up to the
TorchScript archive's metadata).
"""

import json
import pathlib

import captum
import torch
from captum.attr import Occlusion

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
    print(f"wrote {OUT}: Captum {captum.__version__}, torch {torch.__version__}, "
          f"float32 result {a32.dtype}, float64 result {a64.dtype}")


if __name__ == "__main__":
    main()
