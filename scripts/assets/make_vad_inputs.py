"""Writes the inputs the README's audio example gives Silero VAD, into FOLDER:

    python make_vad_inputs.py FOLDER

- `vad_chunk.npy` (1, 512) f32: 32 ms at 16 kHz of a decaying 220 Hz tone with a 1.3 kHz overtone;
- `vad_state.npy` (2, 1, 128) f32 zeros: the recurrent state of a stream's first chunk;
- `vad_sr.npy` () i64: the sample rate, 16000.

Needs numpy (the converter's environment).
"""

import pathlib
import sys

import numpy as np


def main():
    folder = pathlib.Path(sys.argv[1])
    t = np.arange(512) / 16000
    chunk = 0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t) + 0.05 * np.sin(2 * np.pi * 1300 * t)
    np.save(folder / "vad_chunk.npy", chunk.astype(np.float32)[None])
    np.save(folder / "vad_state.npy", np.zeros((2, 1, 128), dtype=np.float32))
    np.save(folder / "vad_sr.npy", np.array(16000, dtype=np.int64))


if __name__ == "__main__":
    main()
