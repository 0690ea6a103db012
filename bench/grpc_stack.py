"""Benchmark: what the shared call stack costs against a bare grpc.aio server, in one run.

Two server processes serve the same servicer on the LLM provider contract: `bare` is
`grpc.aio.server()` with nothing added; `stack` is `service_core.server.GrpcServer` with every
part of the call stack on (request id, metrics, auth with a bearer token, error mapping, JSON
logging at INFO, health and reflection). h2load (Debian's nghttp2-client) sends gRPC frames;
the runs are interleaved (bare and stack alternate, order flipped each repetition) and the
table reports medians and the stack/bare ratio. Server CPU per call comes from /proc (the run
time of every thread of the server, in nanoseconds, from schedstat).

`--pin` runs both servers on CPU 1 and h2load on CPU 0: on a shared machine the servers then
never migrate between cores, which moves CPU per call less than the load does (two identical
bare servers measured within 2% of each other pinned, 17% apart unpinned, on the same run).

Run: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python bench/grpc_stack.py
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "gen"))

SERVICE = "huleedu.llm.v1.LlmProviderService"
TOKEN = "bench-secret-token"
STREAM_MESSAGES = 10
PIN_SERVERS, PIN_LOAD = "1", "0"  # --pin: CPUs of the servers and of h2load


# -- the servers ------------------------------------------------------------------------------


def _servicer():
    from huleedu.llm.v1 import comparison_pb2
    from huleedu.llm.v1 import llm_provider_service_pb2 as pb
    from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

    class Servicer(pb_grpc.LlmProviderServiceServicer):
        async def GetMockMode(self, request, context):
            return pb.GetMockModeResponse(mock_mode="default")

        async def StreamComparisonResults(self, request, context):
            for sequence in range(1, STREAM_MESSAGES + 1):
                yield pb.StreamComparisonResultsResponse(result=comparison_pb2.ComparisonResult(sequence=sequence))

    return Servicer(), pb_grpc.add_LlmProviderServiceServicer_to_server


async def _serve(kind: str) -> None:
    import grpc

    from service_core.logs import configure_logging
    from service_core.server import GrpcServer, Service
    from service_core.settings import ServerSettings

    servicer, add = _servicer()
    settings = ServerSettings(port=0, metrics_port=0, auth_tokens=TOKEN if kind == "stack" else "")
    if kind == "bare":
        server = grpc.aio.server(options=settings.grpc_options())
        add(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
    else:
        configure_logging("bench", "INFO")  # stderr goes to a file: the formatting cost is real
        stack = GrpcServer(
            name="bench",
            settings=settings,
            services=[Service(SERVICE, lambda s: add(servicer, s))],
            error_domain="bench.huleedu.dev",
        )
        port = await stack.start()
    print(port, flush=True)
    await asyncio.Event().wait()


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Run:
    calls_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_call: float
    failed: int


def _grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


def _request_file(directory: Path, method: str) -> Path:
    from huleedu.llm.v1 import llm_provider_service_pb2 as pb

    message = pb.GetMockModeRequest() if method == "GetMockMode" else pb.StreamComparisonResultsRequest(consumer="b")
    path = directory / f"{method}.bin"
    path.write_bytes(_grpc_frame(message.SerializeToString()))
    return path


def _cpu_seconds(pid: int) -> float:
    """Run time of all the process's threads so far (schedstat: ns, not 10 ms ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def _h2load(port: int, method: str, data: Path, concurrency: int, calls: int, log_file: Path, auth: bool) -> str:
    connections = 4 if concurrency >= 4 else 1
    pin = ["taskset", "-c", PIN_LOAD] if os.environ.get("BENCH_PIN") else []
    command = [
        *pin,
        "h2load",
        f"--requests={calls}",
        f"--clients={connections}",
        f"--max-concurrent-streams={concurrency // connections}",
        f"--data={data}",
        "--header=content-type: application/grpc",
        "--header=te: trailers",
        f"--log-file={log_file}",
        f"http://127.0.0.1:{port}/{SERVICE}/{method}",
    ]
    if auth:
        command.insert(len(pin) + 1, f"--header=authorization: Bearer {TOKEN}")
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout


def _measure(pid: int, port: int, method: str, data: Path, concurrency: int, calls: int, auth: bool) -> Run:
    with tempfile.NamedTemporaryFile(suffix=".log") as log_file:
        cpu_before, started = _cpu_seconds(pid), time.perf_counter()
        output = _h2load(port, method, data, concurrency, calls, Path(log_file.name), auth)
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pid) - cpu_before
        rows = [line.split("\t") for line in Path(log_file.name).read_text().splitlines() if line]
    latencies = sorted(int(row[2]) / 1000 for row in rows)  # start, status, elapsed µs
    failed = sum(1 for row in rows if row[1] != "200")
    rate = next((float(line.split(",")[1].split()[0]) for line in output.splitlines() if "req/s" in line), 0.0)
    return Run(
        calls_per_second=rate or len(rows) / elapsed,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        cpu_us_per_call=cpu / max(len(rows), 1) * 1e6,
        failed=failed,
    )


def _check_both_answer(ports: dict[str, int], stack_on: bool) -> None:
    """Before measuring, one real gRPC call to each: the stack must accept the token, and
    h2load counts HTTP 200s, so the answers must really be OK."""
    import grpc
    from huleedu.llm.v1 import llm_provider_service_pb2 as pb
    from huleedu.llm.v1 import llm_provider_service_pb2_grpc as pb_grpc

    async def check() -> None:
        for kind, port in ports.items():
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = pb_grpc.LlmProviderServiceStub(channel)
                secured = stack_on and kind == "stack"
                metadata = (("authorization", f"Bearer {TOKEN}"),) if secured else ()
                await stub.GetMockMode(pb.GetMockModeRequest(), metadata=metadata, timeout=5)
                call = stub.StreamComparisonResults(pb.StreamComparisonResultsRequest(consumer="b"), metadata=metadata)
                if len([m async for m in call]) != STREAM_MESSAGES:
                    raise SystemExit(f"{kind}: the stream did not send {STREAM_MESSAGES} messages")
                if secured:
                    try:
                        await stub.GetMockMode(pb.GetMockModeRequest(), timeout=5)
                    except grpc.aio.AioRpcError as error:
                        if error.code() != grpc.StatusCode.UNAUTHENTICATED:
                            raise
                    else:
                        raise SystemExit("stack: auth is not on")

    asyncio.run(check())


def _start(kind: str, directory: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    pin = ["taskset", "-c", PIN_SERVERS] if os.environ.get("BENCH_PIN") else []
    process = subprocess.Popen(
        [*pin, sys.executable, __file__, "--serve", kind],
        stdout=subprocess.PIPE,
        stderr=(directory / f"{kind}.stderr").open("w"),
        text=True,
        env=env,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.strip().isdigit():
        process.kill()
        raise SystemExit(f"{kind} server did not start; see {directory / f'{kind}.stderr'}")
    return process, int(line)


WORKLOADS = [("unary", "GetMockMode", 1), ("unary", "GetMockMode", 32), ("unary", "GetMockMode", 128)]
WORKLOADS += [("stream", "StreamComparisonResults", 32)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=["bare", "stack"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=8000, help="calls per h2load run (streams: a quarter)")
    parser.add_argument(
        "--control", action="store_true", help="A/A run: a second bare server in the stack's place (the noise floor)"
    )
    parser.add_argument("--pin", action="store_true", help="servers on CPU 1, h2load on CPU 0 (needs 2 CPUs)")
    args = parser.parse_args()
    if args.pin:
        os.environ["BENCH_PIN"] = "1"
    if args.serve:
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(_serve(args.serve))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        servers = {"bare": _start("bare", directory), "stack": _start("bare" if args.control else "stack", directory)}
        try:
            _benchmark(servers, directory, args.repeats, args.calls, not args.control)
        finally:
            for process, _ in servers.values():
                process.kill()
                process.wait()


def _benchmark(servers: dict, directory: Path, repeats: int, calls: int, stack_on: bool) -> None:
    ports = {kind: port for kind, (_, port) in servers.items()}
    _check_both_answer(ports, stack_on)
    if not stack_on:
        print("CONTROL RUN: both columns are bare grpc.aio servers")
    files = {method: _request_file(directory, method) for _, method, _ in WORKLOADS}
    results: dict[tuple[str, int, str], list[Run]] = {}
    for workload in WORKLOADS:  # warm-up, not recorded
        for kind, (process, port) in servers.items():
            _measure(process.pid, port, workload[1], files[workload[1]], workload[2], 500, stack_on and kind == "stack")
    for repeat in range(repeats):
        order = ["bare", "stack"] if repeat % 2 == 0 else ["stack", "bare"]
        for label, method, concurrency in WORKLOADS:
            n = calls // 4 if label == "stream" else calls
            for kind in order:
                process, port = servers[kind]
                auth = stack_on and kind == "stack"
                run = _measure(process.pid, port, method, files[method], concurrency, n, auth)
                results.setdefault((label, concurrency, kind), []).append(run)
    _print(results, repeats)
    _wrapper_cost()


class _FakeContext:
    """What the wrapper reads and writes of a grpc.aio context, without grpc underneath."""

    def __init__(self) -> None:
        self.trailers: tuple = ()

    def invocation_metadata(self) -> tuple:
        return (("user-agent", "h2load"), ("authorization", f"Bearer {TOKEN}"))

    def set_trailing_metadata(self, metadata: tuple) -> None:
        self.trailers = metadata

    def code(self) -> None:
        return None

    def time_remaining(self) -> None:
        return None

    async def write(self, message: object) -> None:
        return None


def _wrapper_cost(rounds: int = 15, calls: int = 4000) -> None:
    """The stack's own Python cost per call, free of the machine's noise: the same handler
    called directly and through the wrapper, with a fake context, best of `rounds`."""
    import grpc
    from huleedu.llm.v1 import llm_provider_service_pb2 as pb
    from prometheus_client import CollectorRegistry

    from service_core.interceptors import CallStack
    from service_core.metrics import GrpcServerMetrics
    from service_core.request_checks import check_request

    servicer, _ = _servicer()
    stack = CallStack(
        domain="bench",
        metrics=GrpcServerMetrics(CollectorRegistry()),
        tokens={TOKEN: "bench"},
        request_check=check_request,  # as GrpcServer runs it
    )
    requests = {"unary": pb.GetMockModeRequest(), "stream": pb.StreamComparisonResultsRequest(consumer="b")}
    unary = stack.wrap(f"/{SERVICE}/GetMockMode", grpc.unary_unary_rpc_method_handler(servicer.GetMockMode))
    stream = stack.wrap(
        f"/{SERVICE}/StreamComparisonResults", grpc.unary_stream_rpc_method_handler(servicer.StreamComparisonResults)
    )

    async def bare_stream(request: object, context: _FakeContext) -> None:
        async for message in servicer.StreamComparisonResults(request, context):
            await context.write(message)

    async def measure() -> dict[str, float]:
        context, best = _FakeContext(), {}
        pairs = {
            "unary": (servicer.GetMockMode, unary.unary_unary),
            "stream": (bare_stream, stream.unary_stream),
        }
        for _ in range(rounds):
            for label, (bare, wrapped) in pairs.items():
                request = requests[label]
                for kind, handler in (("bare", bare), ("stack", wrapped)):
                    started = time.perf_counter()
                    for _ in range(calls):
                        await handler(request, context)
                    per_call = (time.perf_counter() - started) / calls * 1e6
                    best[f"{label} {kind}"] = min(best.get(f"{label} {kind}", per_call), per_call)
        return best

    best = asyncio.run(measure())
    print(f"\nthe wrapper's own cost (fake context, best of {rounds} x {calls} calls), µs per call:")
    print("| calls | handler alone | through the stack | added |")
    print("|---|---|---|---|")
    for label in ("unary", "stream"):
        bare, stack_cost = best[f"{label} bare"], best[f"{label} stack"]
        print(f"| {label} | {bare:.1f} | {stack_cost:.1f} | {stack_cost - bare:.1f} |")


def _print(results: dict[tuple[str, int, str], list[Run]], repeats: int) -> None:
    print(f"medians of {repeats} interleaved runs; streams send {STREAM_MESSAGES} messages per call")
    print("| calls | c | bare calls/s | stack calls/s | ratio | bare p99 ms | stack p99 ms | p99 ratio |", end="")
    print(" bare CPU µs/call | stack CPU µs/call | failed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, _, concurrency in WORKLOADS:
        bare, stack = results[(label, concurrency, "bare")], results[(label, concurrency, "stack")]

        def med(runs: list[Run], field: str) -> float:
            return statistics.median(getattr(r, field) for r in runs)

        rate_b, rate_s = med(bare, "calls_per_second"), med(stack, "calls_per_second")
        p99_b, p99_s = med(bare, "p99_ms"), med(stack, "p99_ms")
        failed = sum(r.failed for r in bare + stack)
        print(
            f"| {label} | {concurrency} | {rate_b:,.0f} | {rate_s:,.0f} | {rate_s / rate_b:.2f} | {p99_b:.2f} | "
            f"{p99_s:.2f} | {p99_s / p99_b:.2f} | {med(bare, 'cpu_us_per_call'):.0f} | "
            f"{med(stack, 'cpu_us_per_call'):.0f} | {failed} |"
        )


if __name__ == "__main__":
    main()
