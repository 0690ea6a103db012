"""Regenerate the Python code in gen/ from proto/.

Also copies the few googleapis protos the contracts import (google/api and
google/rpc) from the pinned googleapis-common-protos wheel into third_party/, so
that buf and protoc see the same files the runtime imports. third_party/ is not
committed: it is a copy of the installed wheel's files, refreshed on every run.

Usage: python scripts/gen_protos.py [--out DIR] [--third-party-only]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
THIRD_PARTY = ROOT / "third_party"
THIRD_PARTY_FILES = ("google/api/field_behavior.proto", "google/rpc/status.proto")


def sync_third_party() -> Path:
    """Copy the googleapis protos we import from the installed wheel."""
    import google.api  # from googleapis-common-protos

    wheel_root = Path(google.api.__path__[0]).parent.parent
    for relative in THIRD_PARTY_FILES:
        target = THIRD_PARTY / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(wheel_root / relative, target)
    return THIRD_PARTY


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    from importlib.resources import files

    from grpc_tools import protoc

    well_known = files("grpc_tools") / "_proto"  # google/protobuf/*.proto bundled with grpcio-tools
    third_party = sync_third_party()
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{third_party}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *proto_files(),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "gen")
    parser.add_argument("--third-party-only", action="store_true")
    args = parser.parse_args()
    if args.third_party_only:
        sync_third_party()
        return
    if args.out.resolve() == (ROOT / "gen").resolve():
        shutil.rmtree(ROOT / "gen" / "huleedu", ignore_errors=True)
    generate(args.out)
    print(f"generated {len(proto_files())} proto files into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
