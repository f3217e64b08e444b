"""tais:cpu built with podman and run end to end: the CPU image's demo, its reproduced check,
verify and a small E0, inside the container (docs/ARTIFACT-EVALUATION.md, step 2c).

Minutes of work and gigabytes of image, so marked `slow` and `image`: not in `make test` nor in
CI (its 45-minute budget cannot take an image build), but in `make test-all`, or alone with
`pytest -m image tests/test_image.py`. Selected, it fails (never skips) where podman or a base
image cannot be had, naming what is missing.

The image is `make image-cpu`'s: built once from the wheelhouse (`make wheelhouse`) and reused
while its inputs (base, commit, uid and the bytes the build copies; the label tais.inputs) are
the same, so a second run of this test goes straight to the container runs. A tree with
uncommitted changes is built as <commit>-dirty (ALLOW_DIRTY=1).

  TAIS_TEST_BASE_IMAGE  the base (default localhost/debian:bookworm-debootstrap, which
                        `make base-cpu` makes with debootstrap when podman does not hold it;
                        debian:bookworm-slim where a registry is reachable)
  TAIS_DATA_DIR         a benchmark mirror for the E0 run (default ../shared/data if there;
                        else the container reads the Hugging Face hub)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.image]

IMAGE = "tais:cpu"
DEBOOTSTRAP_BASE = "localhost/debian:bookworm-debootstrap"
BASE = os.environ.get("TAIS_TEST_BASE_IMAGE", DEBOOTSTRAP_BASE)
# podman's settings on this machine class (runc, ulimits): what the Makefile passes it.
PODMAN_ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "container" / "containers.conf")}
BUILD_TIMEOUT = 3600
RUN_TIMEOUT = 3600


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        env=PODMAN_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def make(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "CONTAINER=podman", *args],
        cwd=ROOT,
        env=PODMAN_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def in_container(*command: str, volumes: tuple[str, ...] = (), env: tuple[str, ...] = ()) -> str:
    """Runs command in a new container of the image (removed afterwards); its output."""
    args = ["run", "--rm"]
    for volume in volumes:
        args += ["-v", volume]
    for pair in env:
        args += ["-e", pair]
    started = time.monotonic()
    done = podman(*args, IMAGE, *command, timeout=RUN_TIMEOUT)
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    print(f"\n[{' '.join(command)}] in {IMAGE}: {took:.0f} s, exit {done.returncode}")
    assert done.returncode == 0, f"{' '.join(command)} failed in {IMAGE}:\n{output[-6000:]}"
    return output


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    assert shutil.which("podman"), (
        "podman is missing: apt-get install -y podman runc debootstrap "
        "(see ../shared/CONTAINERS.md); this test fails rather than skips without it"
    )
    if podman("image", "exists", BASE).returncode != 0:
        assert BASE == DEBOOTSTRAP_BASE, f"podman holds no {BASE}: pull it first"
        base = make("base-cpu", f"BASE_CPU={BASE}", timeout=BUILD_TIMEOUT)
        assert base.returncode == 0, f"make base-cpu failed:\n{base.stdout}{base.stderr}"
    wheels = make("wheelhouse", timeout=BUILD_TIMEOUT)
    assert wheels.returncode == 0, f"make wheelhouse failed:\n{wheels.stdout}{wheels.stderr}"
    started = time.monotonic()
    built = make("image-cpu", f"BASE_IMAGE={BASE}", "ALLOW_DIRTY=1", timeout=BUILD_TIMEOUT)
    print(f"\nmake image-cpu: {time.monotonic() - started:.0f} s")
    assert built.returncode == 0, f"make image-cpu failed:\n{built.stdout[-6000:]}{built.stderr}"
    yield IMAGE


def label(name: str) -> str:
    done = podman("image", "inspect", "--format", f'{{{{index .Config.Labels "{name}"}}}}', IMAGE)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_image_records_its_base_commit_and_inputs(image: str) -> None:
    base = label("org.opencontainers.image.base.name")
    assert base.startswith(f"{BASE}@sha256:"), f"the base is recorded without its digest: {base}"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert label("org.opencontainers.image.revision") in (head, f"{head}-dirty")
    assert label("tais.inputs")
    # The image's own Python and user: bookworm's 3.11, not root, no git checkout inside.
    facts = in_container(
        "bash", "-c", 'python3 -V; id -u; test ! -e .git && echo no-git; echo "$TAIS_IN_IMAGE"'
    ).split()
    assert facts[0] == "Python" and facts[1].startswith("3.11."), facts
    assert facts[2] != "0" and facts[3:] == ["no-git", "1"], facts


def test_reproduce_demo_in_the_image(image: str) -> None:
    # make reproduce-demo = make demo (run, verify), then the comparison with the manifest the
    # image was built with: the container holds no .git.
    output = in_container("make", "reproduce-demo")
    assert "TAIS verdict: demo: PASS" in output
    assert "verify passed: manifest and" in output
    assert (
        "reproduced: every file of validation/demo outside volatile/ equals the committed bytes"
        in output
    )


def test_verify_in_the_image(image: str) -> None:
    output = in_container("make", "verify")
    assert "verify passed: manifest and" in output


def test_e0_on_the_cpu_profile_in_the_image(image: str) -> None:
    data = Path(os.environ.get("TAIS_DATA_DIR") or ROOT.parent / "shared" / "data")
    volumes: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    if data.is_dir():
        volumes, env = (f"{data.resolve()}:/data:ro",), ("TAIS_DATA_DIR=/data",)
    output = in_container("make", "e0", "PROFILE=cpu", "LIMIT=5", volumes=volumes, env=env)
    assert "profile: cpu (PROFILE=cpu)" in output
    assert "verify passed: manifest and" in output
    assert "e0-cpu-limit5" in output
