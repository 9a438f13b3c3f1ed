"""structlog JSON logging, configured once per process; job_id, step, attempt and trace_id are bound per message.

Every line a service writes is one JSON object on stderr: its own structlog events, and the stdlib records of the
libraries it runs on. FastStream and uvicorn install coloured handlers of their own (FastStream's write to
stdout); :func:`configure_logging` takes those handlers away so their records reach the one JSON handler too.
"""

import logging
import sys

import structlog
from opentelemetry import trace

# Loggers that libraries set up with handlers of their own (and often ``propagate = False``).
LIBRARY_LOGGER_PREFIXES = ("faststream", "uvicorn")
# The broker logs through this logger (see reelflow.runtime.service); it propagates to the JSON handler.
BROKER_LOGGER_NAME = "faststream.broker"


def _add_trace_id(_: object, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
    return event_dict


def _drop_colour_copy(_: object, __: str, event_dict: structlog.types.EventDict) -> structlog.types.EventDict:
    """uvicorn passes a copy of each message with terminal colour codes as the extra ``color_message``."""
    event_dict.pop("color_message", None)
    return event_dict


def route_library_loggers_to_root() -> None:
    """Remove the handlers FastStream and uvicorn gave their loggers, and let their records propagate."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(LIBRARY_LOGGER_PREFIXES)]
    for name in [*LIBRARY_LOGGER_PREFIXES, BROKER_LOGGER_NAME, *names]:
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()
        library_logger.propagate = True


def configure_logging(service: str, *, level: str = "INFO", fmt: str = "json") -> None:
    """Route stdlib and structlog output through one JSON (or console) renderer on stderr."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_id,
    ]
    # A traceback becomes one string field of the JSON object, never lines of its own.
    rendering: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        *([structlog.processors.format_exc_info] if fmt == "json" else []),
        renderer,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=rendering,
            # Library records keep their extra fields (FastStream's subject and message_id, for one).
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_colour_copy],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    route_library_loggers_to_root()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
