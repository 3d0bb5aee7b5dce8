"""augmix._util.download against a local HTTP server: cache, md5, retries, resume, safe extraction."""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile

import pytest
from http_server import local_http_server

from augmix._util.download import DownloadError, cache_dir, download, extract, md5_file

PAYLOAD = os.urandom(3 << 20)  # three chunks, so a cut connection leaves a real partial file
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture()
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "blob.bin").write_bytes(PAYLOAD)
    with local_http_server(root) as (url, faults):
        yield url, faults


def test_downloads_verifies_and_uses_the_cache(served, tmp_path):
    url, faults = served
    dest = download(f"{url}/blob.bin", tmp_path / "out" / "blob.bin", md5=PAYLOAD_MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("blob.bin.part").exists()
    download(f"{url}/blob.bin", dest, md5=PAYLOAD_MD5, progress=False)
    assert len(faults.requests) == 1  # the verified copy was reused


def test_md5_mismatch_names_the_file_and_leaves_nothing(served, tmp_path):
    url, _ = served
    dest = tmp_path / "blob.bin"
    with pytest.raises(ValueError, match=r"md5 mismatch for .*blob\.bin\.part: expected 0{32}"):
        download(f"{url}/blob.bin", dest, md5="0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


def test_stale_copy_with_wrong_md5_is_fetched_again(served, tmp_path):
    url, faults = served
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    download(f"{url}/blob.bin", dest, md5=PAYLOAD_MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD and len(faults.requests) == 1


def test_retries_server_errors(served, tmp_path):
    url, faults = served
    faults.fail_first = 2
    dest = download(f"{url}/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, retries=2, progress=False)
    assert dest.read_bytes() == PAYLOAD and len(faults.requests) == 3


def test_gives_up_after_the_retries(served, tmp_path):
    url, faults = served
    faults.fail_first = 5
    with pytest.raises(DownloadError, match="HTTP 503"):
        download(f"{url}/blob.bin", tmp_path / "blob.bin", retries=1, progress=False)
    assert not (tmp_path / "blob.bin").exists()


def test_missing_file_fails_at_once(served, tmp_path):
    url, faults = served
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{url}/nope.bin", tmp_path / "nope.bin", retries=3, progress=False)
    assert len(faults.requests) == 1


def test_cut_connection_resumes_with_range(served, tmp_path):
    url, faults = served
    faults.cut_after = 1 << 20
    dest = download(f"{url}/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, retries=1, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert faults.requests[0]["range"] is None
    assert faults.requests[1]["range"] == f"bytes={1 << 20}-"


def test_partial_file_from_an_earlier_run_is_resumed(served, tmp_path):
    url, faults = served
    (tmp_path / "blob.bin.part").write_bytes(PAYLOAD[:12345])
    dest = download(f"{url}/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD and faults.requests[0]["range"] == "bytes=12345-"


def test_server_without_range_support_restarts_cleanly(served, tmp_path):
    url, faults = served
    faults.ignore_range = True
    (tmp_path / "blob.bin.part").write_bytes(b"garbage that must not be kept")
    dest = download(f"{url}/blob.bin", tmp_path / "blob.bin", md5=PAYLOAD_MD5, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AUGMIX_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("AUGMIX_CACHE")
    assert cache_dir().parts[-2:] == (".cache", "augmix")


def _tar(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extract_tar_and_zip(tmp_path):
    _tar(tmp_path / "a.tar.gz", {"top/x.txt": b"x", "top/sub/y.txt": b"y"})
    out = extract(tmp_path / "a.tar.gz", tmp_path / "out")
    assert (out / "top" / "sub" / "y.txt").read_bytes() == b"y"
    assert [p.name for p in out.iterdir()] == ["top"]  # no temporary folder left behind
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as zf:
        zf.writestr("z/z.txt", "z")
    assert (extract(tmp_path / "b.zip", tmp_path / "out") / "z" / "z.txt").read_text() == "z"


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "ok/../../evil.txt"])
def test_extract_refuses_members_outside(tmp_path, name):
    _tar(tmp_path / "bad.tar", {name: b"e"})
    with pytest.raises(ValueError, match="outside the destination"):
        extract(tmp_path / "bad.tar", tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def _link(tar, name: str, target: str, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    tar.addfile(info)


def _file(tar, name: str, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_extract_refuses_a_symlink_chain_out_of_the_destination(tmp_path):
    # Each link stays inside on its own; followed in turn they lead to dest's parent.
    with tarfile.open(tmp_path / "chain.tar", "w") as tar:
        _link(tar, "p", ".")
        _link(tar, "p/q", "..")
        _link(tar, "q/t", "..")
        _file(tar, "q/t/escaped.txt", b"e")
    (tmp_path / "dest").mkdir()
    with pytest.raises(ValueError, match="refusing link"):
        extract(tmp_path / "chain.tar", tmp_path / "dest" / "out")
    assert not list(tmp_path.rglob("escaped.txt"))
    assert [p.name for p in (tmp_path / "dest" / "out").iterdir()] == []  # nothing unpacked


def test_extract_refuses_a_hard_link_to_a_file_outside(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    with tarfile.open(tmp_path / "hard.tar", "w") as tar:
        _link(tar, "x/y/z/w/h", "../../../../victim", kind=tarfile.LNKTYPE)
        _file(tar, "x/y/z/w/h", b"overwritten")
    with pytest.raises(ValueError, match="refusing link"):
        extract(tmp_path / "hard.tar", tmp_path / "out")
    assert victim.read_bytes() == b"precious"


def test_extract_refuses_zip_symlinks(tmp_path):
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        info = zipfile.ZipInfo("a/link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "../../outside")
    with pytest.raises(ValueError, match="refusing link"):
        extract(tmp_path / "link.zip", tmp_path / "out")


def test_extract_rejects_other_files(tmp_path):
    (tmp_path / "plain.txt").write_text("no archive")
    with pytest.raises(ValueError, match="tar or zip"):
        extract(tmp_path / "plain.txt", tmp_path / "out")


def test_md5_file(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert md5_file(tmp_path / "f") == hashlib.md5(b"abc").hexdigest()


def _fetch_in_process(url, dest, md5, queue):
    queue.put(md5_file(download(url, dest, md5=md5, progress=False)))


def test_concurrent_processes_do_not_share_a_partial_file(served, tmp_path):
    import multiprocessing

    url, faults = served
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_fetch_in_process,
                           args=(f"{url}/blob.bin", tmp_path / "d" / "blob.bin", PAYLOAD_MD5, queue))
               for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [queue.get(timeout=5) for _ in workers] == [PAYLOAD_MD5] * 3
    assert len(faults.requests) == 1  # one fetched it, the others found the verified copy


def test_every_released_archive_has_a_checksum():
    from augmix.data.corrupted import ARCHIVES

    for dataset, (archives, _) in ARCHIVES.items():
        for url, md5 in archives:
            assert md5 is not None and len(md5) == 32 and int(md5, 16) >= 0, (dataset, url)
