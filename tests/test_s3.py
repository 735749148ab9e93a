"""The data dir on object storage (pipeline.fs): the whole pipeline against a local S3 server (moto),
and the atomic-write contract of the fs layer on a remote filesystem."""

import os
import subprocess
import sys
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from moto.server import ThreadedMotoServer
from upath import UPath

from assets.launch import launch
from pipeline import fs
from pipeline.config import load_settings
from pipeline.tables import TABLE_NAMES

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "xxgk-test"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1, on a port the OS picks; a bucket in it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    fsspec.filesystem(
        "s3", endpoint_url=endpoint, key="testing", secret="testing", skip_instance_cache=True
    ).mkdir(BUCKET)
    yield endpoint
    server.stop()


def _storage_options(endpoint: str) -> dict:
    return {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_"))}
    no_proxy = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return {
        **env,
        **CREDENTIALS,
        "FSSPEC_S3_ENDPOINT_URL": endpoint,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


def test_the_pipeline_runs_with_its_data_dir_on_s3(s3_endpoint, corpus, tmp_path):
    url = f"s3://{BUCKET}/runs/one"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--sources", str(corpus)],
        cwd=tmp_path,  # nothing may land in a local data/ folder
        env={**_env(s3_endpoint), "XXGK_DATA_DIR": url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"rows, in {url}/warehouse" in done.stdout
    assert not (tmp_path / "data").exists() and not (corpus.parent / "data").exists()

    options = _storage_options(s3_endpoint)
    tables = {
        n: pd.read_parquet(f"{url}/warehouse/{n}.parquet", storage_options=options) for n in TABLE_NAMES
    }
    reports = tables["reports"]
    assert len(reports) == 7 and sorted(reports["status"]) == ["failed"] + ["ok"] * 6
    assert set(tables["validation_issues"]["check"]) == {"T4"}

    bucket = fsspec.filesystem("s3", skip_instance_cache=True, **options)
    keys = [k.removeprefix(f"{BUCKET}/runs/one/") for k in bucket.find(f"{BUCKET}/runs/one")]
    assert {"raw/manifests/jugezhuang.json", "raw/status/missing.json", "cache/stages/validate.json"} <= set(
        keys
    )
    assert {"cache/stages/parse/jugezhuang.json", *(f"warehouse/{n}.parquet" for n in TABLE_NAMES)} <= set(
        keys
    )
    assert sum(k.startswith("raw/objects/") for k in keys) == 7
    assert sum(k.startswith("cache/parsed/") for k in keys) == 7
    assert not [k for k in keys if k.endswith(".tmp")]  # one PUT per object, no temporary objects

    # The same tables as on a local disk (fetched_at aside).
    local = tmp_path / "local"
    assert launch(load_settings(corpus, local)).success
    for name in TABLE_NAMES:
        expected = pd.read_parquet(local / "warehouse" / f"{name}.parquet")
        got = tables[name]
        if name == "reports":
            got, expected = got.drop(columns="fetched_at"), expected.drop(columns="fetched_at")
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)


def test_locations_local_paths_stay_pathlib_and_urls_become_upaths(tmp_path):
    assert fs.location(str(tmp_path)) == tmp_path and type(fs.location(str(tmp_path))) is type(tmp_path)
    assert fs.location(tmp_path.as_uri()) == tmp_path
    assert fs.location("data") == Path("data")
    remote = fs.location("s3://bucket/prefix")
    assert (
        isinstance(remote, UPath)
        and not fs.is_local(remote)
        and str(remote / "raw") == "s3://bucket/prefix/raw"
    )
    assert fs.relative(remote / "cache" / "x.json", remote) == "cache/x.json"
    assert fs.relative(tmp_path / "cache" / "x.json", tmp_path) == "cache/x.json"


def test_a_remote_write_that_fails_leaves_the_old_object(tmp_path):
    """On object storage the content is uploaded in one piece after it is complete: a writer that fails
    half-way uploads nothing (memory:// stands in for S3 here)."""
    path = fs.location("memory://xxgk-test/warehouse/reports.parquet")
    fs.write_bytes(path, b"old table")

    def half_then_fail(target):
        target.write(b"half a ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fs.atomic_write(path, half_then_fail)
    assert fs.read_bytes(path) == b"old table"
    assert [p.name for p in path.parent.iterdir()] == ["reports.parquet"]
