"""The scale-out setup of README "Scale", every service of it started on this machine: PostgreSQL, Redis,
an S3 server, dagster-daemon and dagster-celery workers, each on a free loopback port, all in one
temporary folder and on the shipped configuration (deploy/dagster.yaml, deploy/celery.yaml).

It is how `make cluster-demo` and tests/test_cluster.py prove the multi-machine setup on one machine,
not a way to run production. Each process starts in a session (process group) of its own and is
stopped with its whole group — the daemon's code server and run processes, a worker's pool — in the
reverse order of starting, also when the caller fails (`Cluster` is a context manager).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent  # the console scripts of this environment (dagster-daemon, …)
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # Debian's postgresql
PG_USER, PG_DB = "xxgk", "dagster"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class Unavailable(RuntimeError):
    """A tool the cluster needs is not installed here (the test skips with this reason)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_pids(pgid: int) -> set[int]:
    """The processes alive in process group `pgid` (from /proc)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.add(int(entry.name))
    return pids


@dataclass
class Service:
    """One started program and its process group; its output goes to `log`."""

    name: str
    process: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM  # what asks it to shut down cleanly

    @property
    def pgid(self) -> int:
        return self.process.pid  # started with start_new_session: the leader of its own group

    def alive(self) -> bool:
        return self.process.poll() is None

    def pids(self) -> set[int]:
        return group_pids(self.pgid)

    def kill(self) -> None:
        """SIGKILL to the whole group: the machine lost, as far as this service is concerned."""
        _signal_group(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """Ask the group to stop, then SIGKILL what is left of it after `timeout`."""
        if self.alive():
            _signal_group(self.pgid, self.stop_signal)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:  # children of a leader that has exited
            _signal_group(self.pgid, signal.SIGKILL)
            time.sleep(0.1)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float, watch: list[Service] = (), poll: float = 0.25
) -> Any:
    """Poll `condition` until it returns something true; fail early, with its log, if a watched
    service dies, and after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        for service in watch:
            if not service.alive():
                raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(poll)


def _run_as(user: str | None) -> list[str]:
    """The prefix that runs a command as `user` (PostgreSQL refuses to run as root)."""
    if user is None:
        return []
    entry = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups", "--"]


def postgres_user() -> str | None:
    """Who runs PostgreSQL: this user, or when this is root an unprivileged system user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("setpriv") is None:
            raise Unavailable("running as root and setpriv (util-linux) is missing: cannot start postgres")
        return name
    raise Unavailable("running as root and no unprivileged user (postgres, nobody) to start postgres as")


def check_tools() -> None:
    """Raise Unavailable naming what is missing: Debian's postgresql and redis-server."""
    if not any((b / "initdb").exists() and (b / "postgres").exists() for b in PG_BINS):
        raise Unavailable("PostgreSQL server not installed (Debian package postgresql: initdb, postgres)")
    if shutil.which("redis-server") is None:
        raise Unavailable("redis-server not installed (Debian package redis-server)")
    for script in ("dagster-daemon", "dagster-celery", "moto_server", "dagster"):
        if not (BIN / script).exists():
            raise Unavailable(f"{script} not installed in {BIN} (pip install -e '.[test]')")
    postgres_user()


@dataclass
class Cluster:
    """The services, started by the `start_*` methods into `workdir`, stopped by `close()` (or `with`).

    `env` is the environment every Dagster process gets: DAGSTER_HOME (holding a copy of
    deploy/dagster.yaml), the DAGSTER_PG_* variables, the Celery broker and backend, the S3 endpoint
    and credentials, XXGK_EXECUTOR=celery; callers add XXGK_SOURCES, XXGK_DATA_DIR and the like.
    """

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    s3_endpoint: str = ""

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)  # PostgreSQL's user must reach its folder inside
        (self.workdir / "logs").mkdir(exist_ok=True)
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_", "DAGSTER_", "XXGK_"))
        }
        loopback = ",".join(filter(None, [base.get("NO_PROXY"), "127.0.0.1", "localhost"]))
        path = os.pathsep.join([str(BIN), base.get("PATH", "/usr/bin:/bin")])  # dagster-celery runs `celery`
        self.env = {
            **base,
            "PATH": path,
            "NO_PROXY": loopback,
            "no_proxy": loopback,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ processes

    def start(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        stop_signal: int = signal.SIGTERM,
    ) -> Service:
        """Start `argv` in a session of its own, output to logs/<name>.log; registered for close()."""
        if name in self.services:
            raise ValueError(f"service {name} already started")
        log = self.workdir / "logs" / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env if env is not None else self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log, stop_signal)
        self.services[name] = service
        return service

    def close(self) -> None:
        """Stop every service, the last started first; then nothing of them is left running."""
        errors = []
        for service in reversed(list(self.services.values())):
            try:
                service.stop()
            except Exception as exc:  # stop the others all the same
                errors.append(f"{service.name}: {exc}")
        if errors:
            raise RuntimeError("could not stop: " + "; ".join(errors))

    # ------------------------------------------------------------------ infrastructure

    def start_postgres(self) -> Service:
        """initdb (a password-protected superuser) and postgres on a free port of 127.0.0.1; the
        Dagster database created; DAGSTER_PG_* set to reach it."""
        import psycopg2

        bin_dir = next(b for b in PG_BINS if (b / "initdb").exists())
        user = postgres_user()
        folder = self.workdir / "postgres"
        folder.mkdir()
        password = secrets.token_hex(12)
        (folder / "password").write_text(password, encoding="utf-8")
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            os.chown(folder / "password", entry.pw_uid, entry.pw_gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(folder)}
        done = subprocess.run(
            [
                *_run_as(user), str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", PG_USER,
                f"--pwfile={folder / 'password'}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "-N",
            ],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed (as {user or 'this user'}): {done.stderr.strip()}")
        port = free_port()
        service = self.start(
            "postgres",
            [
                *_run_as(user), str(bin_dir / "postgres"), "-D", str(folder / "data"), "-p", str(port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={folder}",
                "-c", "fsync=off", "-c", "max_connections=200",
            ],
            env=env,
            stop_signal=signal.SIGINT,  # "fast" shutdown: clients disconnected, then stop
        )  # fmt: skip

        def connect():
            try:
                return psycopg2.connect(
                    host="127.0.0.1", port=port, user=PG_USER, password=password, dbname="postgres"
                )
            except psycopg2.OperationalError:
                return None

        conn = wait_until(connect, "postgres accepting connections", 60, [service])
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {PG_DB}")
        conn.close()
        self.env.update(
            DAGSTER_PG_HOST="127.0.0.1",
            DAGSTER_PG_PORT=str(port),
            DAGSTER_PG_USER=PG_USER,
            DAGSTER_PG_PASSWORD=password,
            DAGSTER_PG_DB=PG_DB,
        )
        return service

    def start_redis(self) -> Service:
        """redis-server on a free port, nothing persisted; db 0 the Celery broker, db 1 its results."""
        import redis

        folder = self.workdir / "redis"
        folder.mkdir()
        port = free_port()
        service = self.start(
            "redis",
            [
                "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder),
                "--save", "", "--appendonly", "no", "--daemonize", "no",
            ],
        )  # fmt: skip

        def ping() -> bool:
            try:
                return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping())
            except redis.RedisError:
                return False

        wait_until(ping, "redis answering PING", 30, [service])
        self.env.update(
            XXGK_CELERY_BROKER=f"redis://127.0.0.1:{port}/0",
            XXGK_CELERY_BACKEND=f"redis://127.0.0.1:{port}/1",
        )
        return service

    def start_s3(self, bucket: str) -> Service:
        """moto's S3 server on a free port with `bucket` in it; the S3 endpoint and credentials set."""

        port = free_port()
        service = self.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)])
        self.s3_endpoint = f"http://127.0.0.1:{port}"
        s3 = self.s3()

        def make_bucket() -> bool:
            try:
                s3.mkdir(bucket)
                return True
            except OSError:
                return False

        wait_until(make_bucket, "the S3 server", 30, [service])
        self.env.update(**S3_CREDENTIALS, FSSPEC_S3_ENDPOINT_URL=self.s3_endpoint)
        return service

    def s3(self) -> Any:
        """An S3 filesystem (fsspec) on the cluster's S3 server."""
        import fsspec

        return fsspec.filesystem("s3", skip_instance_cache=True, **self.storage_options())

    def storage_options(self) -> dict[str, str]:
        """What pandas / fsspec need to read s3:// URLs of this cluster."""
        return {"endpoint_url": self.s3_endpoint, "key": "testing", "secret": "testing"}

    # ------------------------------------------------------------------ Dagster

    def dagster_home(self) -> Path:
        """DAGSTER_HOME with the shipped deploy/dagster.yaml in it, as it is (README "Scale")."""
        home = self.workdir / "dagster_home"
        if not home.exists():
            home.mkdir()
            shutil.copyfile(DEPLOY / "dagster.yaml", home / "dagster.yaml")
            self.env.update(DAGSTER_HOME=str(home), XXGK_EXECUTOR="celery")
        return home

    def celery_yaml(self, **transport_options: Any) -> Path:
        """deploy/celery.yaml, with `transport_options` (e.g. a short visibility_timeout) laid over its
        broker transport options; as it is when none are given."""
        if not transport_options:
            return DEPLOY / "celery.yaml"
        config = yaml.safe_load((DEPLOY / "celery.yaml").read_text(encoding="utf-8"))
        config["execution"]["config"]["config_source"]["broker_transport_options"].update(transport_options)
        path = self.workdir / "celery.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def create_schema(self) -> None:
        """`dagster instance migrate`: the Dagster tables created in the new database, once, before any
        Dagster process starts (processes that find an empty database all create them, and collide)."""
        self.dagster("instance", "migrate")

    def start_daemon(self) -> Service:
        """dagster-daemon on workspace.yaml: scheduler, sensors, the run queue, run retries. Its runs
        (DefaultRunLauncher) are processes of its code server, in its process group."""
        self.dagster_home()
        return self.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])

    def start_worker(self, name: str, celery_yaml: Path, concurrency: int = 2) -> Service:
        """A dagster-celery worker named `name` (node `name@<host>`), as README "Scale" starts it."""
        self.dagster_home()
        service = self.start(
            f"worker-{name}",
            [
                str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                "-y", str(celery_yaml), "--name", name, "--", f"--concurrency={concurrency}",
            ],
        )  # fmt: skip
        return service

    def wait_worker_ready(self, name: str, timeout: float = 120) -> None:
        service = self.services[f"worker-{name}"]
        wait_until(lambda: " ready." in service.tail(200), f"celery worker {name} ready", timeout, [service])

    def dagster(self, *args: str, timeout: float = 180) -> str:
        """Run the `dagster` CLI on workspace.yaml with the cluster's environment; its output."""
        self.dagster_home()
        done = subprocess.run(
            [str(BIN / "dagster"), *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"dagster {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    @contextmanager
    def instance(self) -> Iterator[Any]:
        """The cluster's Dagster instance (its Postgres run storage), read from this process."""
        import dagster as dg

        home = self.dagster_home()
        saved = {k: os.environ.get(k) for k in self.env if k.startswith("DAGSTER_PG_")}
        os.environ.update({k: self.env[k] for k in saved})
        try:
            instance = dg.DagsterInstance.from_config(str(home))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        try:
            yield instance
        finally:
            instance.dispose()
