"""mlreview.data.fetch: mirror, cache and download order, checksums, provenance and the
error messages. Every download comes from a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from tests.localserver import closed_port_url, serve
from mlreview.data import fetch as F

DATASET = "demo"
NAME = "numbers.bin"
CONTENT = bytes(range(256)) * 40
SHA = hashlib.sha256(CONTENT).hexdigest()





@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    """No mirror from the environment, and no proxy for local addresses."""
    monkeypatch.delenv(F.ENV_MIRROR, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def served(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / NAME).write_bytes(CONTENT)
    with serve(site) as url:
        yield url


def make_mirror(root: Path, content: bytes = CONTENT) -> Path:
    path = root / DATASET / NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return path


def test_mirror_copy_is_verified_and_used_in_place(tmp_path):
    mirror_file = make_mirror(tmp_path / "mirror")
    cache = tmp_path / "cache"
    got = F.fetch_file(NAME, urls=[closed_port_url()], sha256=SHA, dataset=DATASET, cache_dir=cache,
                       mirror=tmp_path / "mirror")
    assert got.path == mirror_file and got.source == "mirror" and got.verified and got.sha256 == SHA
    assert not cache.exists()  # nothing copied or downloaded
    assert F.fetch(NAME, urls=[], sha256=SHA, dataset=DATASET, cache_dir=cache, mirror=tmp_path / "mirror") == mirror_file


def test_environment_mirror_takes_precedence(tmp_path, monkeypatch):
    env_file = make_mirror(tmp_path / "env_mirror")
    make_mirror(tmp_path / "arg_mirror", content=b"another version")
    monkeypatch.setenv(F.ENV_MIRROR, str(tmp_path / "env_mirror"))
    got = F.fetch_file(NAME, urls=[], sha256=SHA, dataset=DATASET, cache_dir=tmp_path / "cache",
                       mirror=tmp_path / "arg_mirror")
    assert got.path == env_file
    assert F.mirror_root(tmp_path / "arg_mirror") == tmp_path / "env_mirror"
    monkeypatch.setenv(F.ENV_MIRROR, "")
    assert F.mirror_root(tmp_path / "arg_mirror") == tmp_path / "arg_mirror"


def test_mirror_checksum_mismatch_names_both_hashes_and_leaves_the_file(tmp_path, served):
    bad = b"not the canonical bytes"
    mirror_file = make_mirror(tmp_path / "mirror", content=bad)
    mirror_file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # read-only, as a shared mirror
    before = mirror_file.stat()
    with pytest.raises(F.ChecksumMismatch) as info:
        F.fetch(NAME, urls=[served], sha256=SHA, dataset=DATASET, cache_dir=tmp_path / "cache",
                mirror=tmp_path / "mirror")
    message = str(info.value)
    assert SHA in message and hashlib.sha256(bad).hexdigest() in message and NAME in message
    assert info.value.expected == SHA and info.value.actual == hashlib.sha256(bad).hexdigest()
    assert mirror_file.read_bytes() == bad and mirror_file.stat().st_mtime_ns == before.st_mtime_ns
    assert not (tmp_path / "cache").exists()  # a bad mirror copy is an error, not a reason to download


def test_download_into_cache_then_cache_without_server(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / NAME).write_bytes(CONTENT)
    cache = tmp_path / "cache"
    with serve(site) as url:
        got = F.fetch_file(NAME, urls=[url], sha256=SHA, dataset=DATASET, cache_dir=cache,
                           mirror=tmp_path / "empty_mirror")
    assert got.source == "url" and got.url == url + NAME and got.verified
    assert got.path == cache / NAME and got.path.read_bytes() == CONTENT
    assert sorted(p.name for p in cache.iterdir()) == [NAME]
    # The server is gone: the second call must be served from the cache.
    again = F.fetch_file(NAME, urls=[url], sha256=SHA, dataset=DATASET, cache_dir=cache)
    assert again.source == "cache" and again.path == cache / NAME and again.verified


def test_first_url_failing_then_second_url(tmp_path, served):
    for first in (served + "missing/", closed_port_url()):  # HTTP 404, then connection refused
        cache = tmp_path / f"cache_{abs(hash(first))}"
        got = F.fetch_file(NAME, urls=[first, served], sha256=SHA, dataset=DATASET, cache_dir=cache)
        assert got.source == "url" and got.url == served + NAME
        assert (cache / NAME).read_bytes() == CONTENT


def test_full_url_is_used_as_given(tmp_path, served):
    got = F.fetch_file("local_name.bin", urls=[served + NAME], sha256=SHA, dataset=DATASET,
                       cache_dir=tmp_path / "cache")
    assert got.path == tmp_path / "cache" / "local_name.bin" and got.path.read_bytes() == CONTENT


def test_corrupted_download_raises_and_leaves_nothing(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    wrong = CONTENT[:-1] + b"\x00"
    (site / NAME).write_bytes(wrong)
    cache = tmp_path / "cache"
    with serve(site) as url, pytest.raises(F.ChecksumMismatch) as info:
        F.fetch(NAME, urls=[url], sha256=SHA, dataset=DATASET, cache_dir=cache)
    assert SHA in str(info.value) and hashlib.sha256(wrong).hexdigest() in str(info.value)
    assert list(cache.iterdir()) == []  # no file, no temporary left behind


def test_corrupt_cache_copy_is_replaced(tmp_path, served):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / NAME).write_bytes(b"half a file")
    got = F.fetch_file(NAME, urls=[served], sha256=SHA, dataset=DATASET, cache_dir=cache)
    assert got.source == "url" and (cache / NAME).read_bytes() == CONTENT


def test_unavailable_message_says_what_was_tried_and_where_to_put_the_file(tmp_path):
    urls = [closed_port_url(), closed_port_url() + "sub/"]
    with pytest.raises(F.DataUnavailable) as info:
        F.fetch(NAME, urls=urls, sha256=SHA, dataset=DATASET, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert NAME in message
    for url in urls:
        assert url + NAME in message
    assert f"<mirror>/{DATASET}/{NAME}" in message.replace(os.sep, "/")
    assert F.ENV_MIRROR in message and "ConnectionError" in message
    assert not (tmp_path / "cache" / NAME).exists()
    # With a mirror set, the message names the exact place in it.
    with pytest.raises(F.DataUnavailable) as info:
        F.fetch(NAME, urls=urls, sha256=SHA, dataset=DATASET, cache_dir=tmp_path / "cache",
                mirror=tmp_path / "mirror")
    assert str(tmp_path / "mirror" / DATASET / NAME) in str(info.value)


def test_fetch_first_prefers_any_local_copy(tmp_path, served):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "second.bin").write_bytes(CONTENT)
    got = F.fetch_first([("first.bin", served + NAME), ("second.bin", closed_port_url())], dataset=DATASET,
                        cache_dir=cache)
    assert got.source == "cache" and got.path.name == "second.bin"
    got = F.fetch_first([("gone.bin", closed_port_url()), ("served.bin", served + NAME)], dataset=DATASET,
                        cache_dir=cache)
    assert got.source == "url" and got.path.name == "served.bin"
    with pytest.raises(F.DataUnavailable) as info:
        F.fetch_first([("a.zip", closed_port_url()), ("b.gz", closed_port_url())], dataset=DATASET,
                      cache_dir=cache)
    assert "a.zip" in str(info.value) and "b.gz" in str(info.value)


def test_no_checksum_download_and_provenance(tmp_path, served):
    cache = tmp_path / "cache"
    got = F.fetch_file(NAME, urls=[served], sha256=None, dataset=DATASET, cache_dir=cache)
    assert got.source == "url" and not got.verified and got.sha256 == SHA
    record_path = F.provenance_path(got.path)
    assert record_path == cache / f"{NAME}.provenance.json"
    record = F.write_provenance(record_path, got)
    assert record["url"] == served + NAME and record["size"] == len(CONTENT) and record["sha256"] == SHA
    assert record["recorded_utc"].endswith("Z")
    assert F.check_provenance(record_path, got.path)["sha256"] == SHA
    got.path.write_bytes(CONTENT[::-1])  # same size, different bytes
    with pytest.raises(F.ProvenanceMismatch, match="sha256"):
        F.check_provenance(record_path, got.path)
    got.path.write_bytes(CONTENT + b"x")
    with pytest.raises(F.ProvenanceMismatch, match="size"):
        F.check_provenance(record_path, got.path)
