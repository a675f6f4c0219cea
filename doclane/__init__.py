"""doclane: document intelligence as an event-streaming pipeline."""

__version__ = "0.1.0"
