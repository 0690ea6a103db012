"""`python -m llm_provider_server`: serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio

from llm_provider_server.app import SERVER_NAME, build_server
from llm_provider_server.settings import LpsSettings
from service_core.logs import configure_logging
from service_core.server import serve


def main() -> None:
    settings = LpsSettings()
    configure_logging(SERVER_NAME, settings.log_level)
    asyncio.run(serve(build_server(settings)))


if __name__ == "__main__":
    main()
