#!/usr/bin/env python3
"""Writes cargo-sources.json for the Flatpak build from Cargo.lock.

Flatpak builds run without network, so flatpak-builder downloads every crate listed in
Cargo.lock beforehand (checked against its sha256) into cargo/vendor/, and a cargo config
replaces crates.io with that directory. Same output format as flatpak-builder-tools'
flatpak-cargo-generator.py, for crates.io dependencies (this project has no git dependencies).

Usage: packaging/flatpak/cargo-sources.py [Cargo.lock] [OUT]   (defaults: the repo's Cargo.lock,
packaging/flatpak/cargo-sources.json). Run it again whenever Cargo.lock changes.
"""

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
VENDOR = "cargo/vendor"


def sources(lock: dict) -> list[dict]:
    out = []
    for pkg in lock["package"]:
        source = pkg.get("source")
        if source is None:
            continue  # this workspace's own crates
        if source != CRATES_IO or "checksum" not in pkg:
            sys.exit(f"cargo-sources.py: {pkg['name']} {pkg['version']} is not from crates.io "
                     f"({source}); use flatpak-cargo-generator.py for git dependencies")
        name, version, checksum = pkg["name"], pkg["version"], pkg["checksum"]
        dest = f"{VENDOR}/{name}-{version}"
        out.append({
            "type": "archive",
            "archive-type": "tar-gzip",
            "url": f"https://static.crates.io/crates/{name}/{name}-{version}.crate",
            "sha256": checksum,
            "dest": dest,
        })
        out.append({
            "type": "inline",
            "contents": json.dumps({"package": checksum, "files": {}}),
            "dest": dest,
            "dest-filename": ".cargo-checksum.json",
        })
    out.append({
        "type": "inline",
        "contents": (f'[source.vendored-sources]\ndirectory = "{VENDOR}"\n\n'
                     '[source.crates-io]\nreplace-with = "vendored-sources"\n'),
        "dest": "cargo",
        "dest-filename": "config.toml",
    })
    return out


def main() -> None:
    lock_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "Cargo.lock"
    out_path = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).with_name("cargo-sources.json")
    with open(lock_path, "rb") as f:
        result = sources(tomllib.load(f))
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{out_path}: {(len(result) - 1) // 2} crates")


if __name__ == "__main__":
    main()
