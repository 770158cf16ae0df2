# Source this file to build and run the tch backend against the PyTorch in `.venv`
# (created by scripts/env/setup-libtorch.sh): `source scripts/env/libtorch-env.sh`.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export LIBTORCH_USE_PYTORCH=1
export PATH="$_root/.venv/bin:$PATH"
_torch_lib="$("$_root/.venv/bin/python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$_torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset _root _torch_lib
