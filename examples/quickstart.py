"""Quickstart: create a scope and a stream, write a few events, read them back.

Run it against a server: python examples/quickstart.py tcp://127.0.0.1:9090
"""

import asyncio
import platform
import sys
import uuid

import pravega_client


async def read_back(reader: pravega_client.StreamReader, expected: int) -> list:
    """Collects events slice by slice; an empty slice means nothing arrived yet."""
    events = []
    while len(events) < expected:
        segment_slice = await reader.get_segment_slice_async()
        events.extend(segment_slice)
        reader.release_segment(segment_slice)
    return events


def main(controller_uri: str) -> None:
    scope = f"quickstart-{uuid.uuid4().hex[:8]}"
    stream = "greetings"

    print(
        f"pravega_client {pravega_client.__version__} on "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    with pravega_client.StreamManager(controller_uri) as manager:
        manager.create_scope(scope)
        manager.create_stream(scope, stream, 1)
        print(f"created stream {scope}/{stream}")

        with manager.create_writer(scope, stream) as writer:
            for word in ("hello", "pravega", "from", "python"):
                writer.write_event(word, routing_key="demo")
        print("wrote 4 events")

        group = manager.create_reader_group("quickstart-readers", scope, stream)
        reader = group.create_reader("reader-1")
        events = asyncio.run(asyncio.wait_for(read_back(reader, 4), timeout=60))
        for event in events:
            print(f"read event at offset {event.offset()}: {event.data().decode()}")
        reader.reader_offline()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:9090")
