"""Channels' WebsocketCommunicator without daphne.

``channels.testing/__init__`` also imports its live-server test case, which needs daphne; the project
serves with uvicorn and does not install daphne. The communicator itself needs nothing of daphne,
so the package is registered without its ``__init__`` and the module imported from it."""

import sys
import types
from pathlib import Path


def _websocket_communicator():
    try:
        from channels.testing import WebsocketCommunicator

        return WebsocketCommunicator
    except ModuleNotFoundError as exc:
        if exc.name != "daphne":
            raise
    import channels

    package = types.ModuleType("channels.testing")
    package.__path__ = [str(Path(channels.__file__).parent / "testing")]
    sys.modules["channels.testing"] = package
    from channels.testing.websocket import WebsocketCommunicator

    return WebsocketCommunicator


WebsocketCommunicator = _websocket_communicator()
