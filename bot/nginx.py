"""nginx in front of the Rasa servers: deploy/nginx.conf.template filled in for one run.

    python -m bot.nginx --out FILE --listen 127.0.0.1:8080 --rasa 127.0.0.1:5006 127.0.0.1:5007 \\
        --directory-api 127.0.0.1:8082 --web-root bot/web --state-dir var/nginx
    python -m bot.nginx --compose          # deploy/nginx.conf, the containers' (committed) file

`make run-prod` (bot/cluster.py) renders the template at start and runs Debian's nginx as the
user running it (`command`): its pid file and buffers under `state_dir`, its errors on stderr.
The containers' file is rendered from the same template with `COMPOSE` and committed, so the
stock nginx image needs nothing of ours and what production runs can be read in the repository;
tests/test_nginx.py fails when the committed file differs from the template's rendering.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.settings import ROOT

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
COMPOSE_CONF = ROOT / "deploy" / "nginx.conf"
WEB_ROOT = ROOT / "bot" / "web"
# Passive health: a server that refused or timed out one connection is left out this long.
MAX_FAILS = 1
FAIL_TIMEOUT = "10s"

FIELD = re.compile(r"\{\{(\w+)\}\}")
# What may go into the configuration: no spaces, quotes, semicolons, braces or variables.
ADDRESS = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+$")
PATH = re.compile(r"^[^\s\"';{}$\\]+$")


@dataclass(frozen=True)
class NginxConfig:
    """What one nginx needs: where it listens (`port` or `address:port`), the Rasa servers and
    the directory API (`host:port`), the web chat page's directory, and its own directory
    (pid file and buffers)."""

    listen: str
    rasa_servers: tuple[str, ...]
    directory_api: str
    web_root: str
    state_dir: str
    worker_processes: str = "auto"

    def fields(self) -> dict[str, str]:
        """The template's fields, checked: a bad value is an error, never a broken file."""
        if not self.rasa_servers:
            raise ValueError("nginx needs at least one Rasa server")
        for address in (self.listen, self.directory_api, *self.rasa_servers):
            if not ADDRESS.match(address):
                raise ValueError(f"not an address nginx can take: {address!r}")
        for path in (self.web_root, self.state_dir):
            if not PATH.match(path) or not path.startswith("/"):
                raise ValueError(f"not an absolute path nginx can take: {path!r}")
        servers = "\n".join(
            f"        server {server} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT};" for server in self.rasa_servers
        )
        return {
            "listen": self.listen,
            "rasa_servers": servers,
            "rasa_count": str(len(self.rasa_servers)),
            "directory_api": self.directory_api,
            "web_root": self.web_root,
            "state_dir": self.state_dir.rstrip("/"),
            "worker_processes": self.worker_processes,
        }


# docker-compose.yml's services; the official image's own directory for nginx's files.
COMPOSE = NginxConfig(
    listen="8080",
    rasa_servers=("rasa-1:5005", "rasa-2:5005"),
    directory_api="directory-api:8082",
    web_root="/usr/share/nginx/html",
    state_dir="/var/cache/nginx",
)


def render(config: NginxConfig, template: str | None = None) -> str:
    """The template with every {{field}} filled in; an unknown field is an error."""
    text = TEMPLATE.read_text() if template is None else template
    values = config.fields()

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise KeyError(f"the nginx template has a field nobody fills: {match.group(0)}")
        return values[match.group(1)]

    return FIELD.sub(fill, text)


def write(config: NginxConfig, path: Path) -> Path:
    """Render `config` into `path`, and make its state directory (nginx makes the ones inside)."""
    Path(config.state_dir).mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(config))
    return path


def binary() -> str:
    """Debian's nginx (`make nginx` installs it)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise FileNotFoundError("nginx is not installed: run `make nginx` (Debian's package)")
    return found


def command(config: NginxConfig, conf: Path) -> list[str]:
    """nginx in the foreground on `conf`, as any user: its prefix is the state directory and
    errors before the configuration is read go to stderr too (not /var/log/nginx)."""
    return [binary(), "-p", config.state_dir, "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compose", action="store_true", help=f"render the containers' file (default --out {COMPOSE_CONF.relative_to(ROOT)})")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--listen", help="port, or address:port")
    parser.add_argument("--rasa", nargs="+", help="the Rasa servers, host:port each")
    parser.add_argument("--directory-api", help="host:port")
    parser.add_argument("--web-root", type=Path, default=WEB_ROOT)
    parser.add_argument("--state-dir", type=Path, help="nginx's pid file and buffers")
    args = parser.parse_args(argv)
    if args.compose:
        (args.out or COMPOSE_CONF).write_text(render(COMPOSE))
        return 0
    if not (args.out and args.listen and args.rasa and args.directory_api and args.state_dir):
        parser.error("give --compose, or --out, --listen, --rasa, --directory-api and --state-dir")
    config = NginxConfig(
        listen=args.listen, rasa_servers=tuple(args.rasa), directory_api=args.directory_api,
        web_root=str(args.web_root.resolve()), state_dir=str(args.state_dir.resolve()),
    )
    write(config, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
