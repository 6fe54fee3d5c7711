"""Safe YAML for the files people edit (``config/recording.yaml``, ``config/qa/*.yaml``).

Reading, composing and error placement are ``cti.yaml_config``'s (no tag constructed, plain
scalars stay strings, duplicate keys refused, every problem ``file:line:col``). What is ours:
a smaller size cap, and schema messages kept exactly as pydantic words them.
"""

from __future__ import annotations

from pathlib import Path

from cti.yaml_config import ConfigError, ModelT, load_yaml, validate

__all__ = ["MAX_FILE_BYTES", "ConfigError", "load_model"]

MAX_FILE_BYTES = 1_000_000


def load_model(model: type[ModelT], path: Path) -> ModelT:
    """Read, parse and validate one file; raises ConfigError naming file, line and column."""
    document = load_yaml(path, max_bytes=MAX_FILE_BYTES)
    return validate(model, document, keep_value_error_prefix=True)
