"""One exception tree; the CLI and the web app turn these into one-line messages."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class of every error the assistant raises on purpose."""


class ConfigError(AssistantError):
    """A setting is unknown or has a bad value."""


class IndexNotFoundError(AssistantError):
    """The store holds no articles yet."""


class IngestError(AssistantError):
    """An input could not be turned into articles."""


class BackendError(AssistantError):
    """A model or store backend failed or is missing."""


class ModelAssemblyError(BackendError):
    """The packaged GGUF model could not be assembled."""


class StoreLockedError(AssistantError):
    """Another process is writing to the store."""


class StoreCorruptError(AssistantError):
    """The store's files are damaged; the message says which command repairs or rebuilds it."""


class ModelNotServedError(BackendError):
    """The LLM server does not serve the model the settings name."""
