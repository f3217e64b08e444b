"""The few named exceptions library code raises; only the CLI turns them into messages."""


class TaisError(Exception):
    """Base of every error the CLI reports as a one-line message."""


class ConfigError(TaisError):
    """The experiment configuration is invalid: unknown key, wrong type, missing path."""


class DataError(TaisError):
    """Input data (battery, records) is missing, empty or malformed."""


class RunLockedError(TaisError):
    """Another `tais run` holds the experiment's runs/ folder."""


class EngineError(TaisError):
    """The generation engine failed to start or to run an arm."""


class HubError(TaisError):
    """A hub model could not be downloaded or resolved (offline, gated, missing, no network)."""


class JudgeError(TaisError):
    """A judge could not label an output."""


class VerifyError(TaisError):
    """Stored artifacts disagree with their manifest or with re-derived numbers."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) found")


class DirtyTreeError(TaisError):
    """Publishing from uncommitted code was refused (the artifacts could not name it)."""


class ChecksumError(DataError):
    """A downloaded or unpacked file's SHA-256 is not the one pinned for it."""


class PackageError(TaisError):
    """A pinned package could not be downloaded from its index (pip failed, no network)."""
