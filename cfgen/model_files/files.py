"""Reading and writing model files safely, whatever a folder holds.

Contracts: a failure to read a file (missing, binary, malformed, nested too
deep, truncated) is a `CorruptModelError` that names the file; safetensors
shapes come from headers alone, so a lying config is caught before anything
is allocated; a folder is written by one process at a time (`RunLock`) and
published under an exclusive lock that readers hold shared (`reading`), so a
reader never sees half of a save. This module knows no model file names.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

from cfgen.errors import CorruptModelError, ModelNotAvailableError, RunInUseError

PUBLISH_LOCK, RUN_LOCK = ".cfgen.lock", ".cfgen-run.lock"


def hash_file(path: Path, digest=None, chunk_size: int = 1 << 20) -> str:
    """Hex digest of a file's bytes fed into `digest` (a hashlib object; SHA-256 by default), read in chunks."""
    digest = digest if digest is not None else hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    return hash_file(path)


def first_line(error: BaseException, limit: int = 200) -> str:
    return ((str(error).splitlines() or [""])[0] or type(error).__name__)[:limit]


def read_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelNotAvailableError(f"{path} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else first_line(error)
        raise CorruptModelError(f"{path} is not valid JSON ({reason})") from None


def weight_shapes(paths: list[Path]) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, read from safetensors headers only (no tensor is loaded)."""
    from safetensors import SafetensorError, safe_open

    shapes = {}
    for path in paths:
        try:
            with safe_open(str(path), framework="pt") as handle:
                for name in handle.keys():
                    shapes[name] = tuple(handle.get_slice(name).get_shape())
        except (SafetensorError, OSError, ValueError) as error:
            raise CorruptModelError(f"{path} is not a valid safetensors file ({first_line(error)}); "
                                    "it may be truncated") from None
    return shapes


def read_tensors(paths: list[Path], int8: bool = False) -> dict:
    """Every tensor of the files; refused (naming the file) unless each is float16 or float32 (or, with `int8`,
    int8: quantised index vectors), as cfgen writes them, and finite: a relabelled dtype or NaN weights would
    load and answer wrongly."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    tensors = {}
    for path in paths:
        try:
            found = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as error:
            raise CorruptModelError(f"{path} cannot be read ({first_line(error)}); it may be truncated") from None
        for name, tensor in found.items():
            check_tensor(path, name, tensor, int8)
        tensors.update(found)
    return tensors


def check_tensor(path: Path, name: str, tensor, int8: bool = False) -> None:
    """CorruptModelError unless `tensor` is float16 or float32 (or int8, if allowed: what cfgen writes) and finite."""
    import torch

    allowed = (torch.float16, torch.float32, torch.int8) if int8 else (torch.float16, torch.float32)
    if tensor.dtype not in allowed:
        raise CorruptModelError(f"{path} stores {name} as {tensor.dtype}; cfgen writes "
                                f"{'float16, float32 or int8' if int8 else 'float16 or float32'}")
    if not torch.isfinite(tensor).all():
        raise CorruptModelError(f"{path} holds NaN or infinite values in {name}; the file is corrupt")


@contextlib.contextmanager
def uninitialised() -> Iterator[None]:
    """Build modules inside this on the meta device, without random initialisation: nothing is allocated.

    Only for a module that is then filled by `load_state_dict(state, strict=True,
    assign=True)`, which takes the state's tensors as they are (no copy, so a
    cold start holds each weight once). Init ops are skipped rather than run on
    meta tensors because the first meta `normal_` loads torch's meta kernels
    (about a second).
    """
    import torch
    from torch.overrides import TorchFunctionMode

    skipped = {"normal_", "uniform_", "fill_", "zero_"}  # the in-place ops torch.nn.init's functions end in

    class SkipInitialisation(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", None) in skipped:  # Tensor.normal_(self) or nn.init.normal_(tensor=)
                return args[0] if args else kwargs["tensor"]
            return func(*args, **(kwargs or {}))

    with torch.device("meta"), SkipInitialisation():
        yield


def module_shapes(module) -> dict[str, tuple[int, ...]]:
    """The state dict shapes of a built module."""
    return {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}


def check_shapes(found: dict, expected: dict, where: Path) -> None:
    for name in sorted(set(found) | set(expected)):
        if found.get(name) != expected.get(name):
            raise CorruptModelError(f"{where} does not match its weights: {name} is {found.get(name)} in the weights "
                                    f"but {expected.get(name)} by the config")


# -- one writer, many readers ------------------------------------------------------------------

@contextlib.contextmanager
def reading(directory: Path) -> Iterator[None]:
    """Hold the folder's publish lock shared while its files are read (no lock file: nothing publishes there)."""
    try:
        handle = open(Path(directory) / PUBLISH_LOCK, "rb")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield


class RunLock:
    """An exclusive, non-blocking lock on a folder for the one process that writes it (training or export).

    The kernel drops it when the process ends, however it ends, so a crash never leaves the folder locked.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._handle = None

    def __enter__(self) -> "RunLock":
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.directory / RUN_LOCK, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()[:40] or "another process"
            handle.close()
            raise RunInUseError(f"{self.directory} is in use by another cfgen process ({holder}); "
                                "wait for it to finish or choose another folder") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle = handle
        for stale in self.directory.parent.glob(_staging_prefix(self.directory) + "*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed writer: only the lock holder writes there
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def remove_if_empty(directory: Path) -> None:
    """Remove a folder that holds nothing but the run lock (a writer that failed before writing anything)."""
    directory = Path(directory)
    with contextlib.suppress(OSError):
        if all(p.name == RUN_LOCK for p in directory.iterdir()):
            (directory / RUN_LOCK).unlink(missing_ok=True)
            directory.rmdir()


def _staging_prefix(directory: Path) -> str:
    return f".{directory.name}.staging-"


def staging_folder(directory: Path) -> Path:
    """A fresh folder beside `directory` (same file system) to write into before publishing."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.parent / f"{_staging_prefix(directory)}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def publish(staging: Path, directory: Path, owned: set[str], last: str) -> None:
    """Move every file of `staging` into `directory`: one rename into a new folder, else file by file under the
    exclusive publish lock, `last` last. Of the files already there, only `owned` ones (relative paths) that the
    new set lacks are removed; nothing else is touched."""
    staging, directory = Path(staging), Path(directory)
    for path in staging.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # temp files are private; a model is for all users
    staging.chmod(0o755)
    if not directory.exists():
        os.rename(staging, directory)
        return
    with open(directory / PUBLISH_LOCK, "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = {path.relative_to(staging).as_posix() for path in staging.rglob("*") if path.is_file()}
        for name in sorted(fresh - {last}) + ([last] if last in fresh else []):
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, directory / name)
        for name in owned - fresh:
            (directory / name).unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
