"""The package's error classes: what augmix raises on purpose, with a message meant for users.

`augmix CMD` prints any of them (and the ValueErrors and OSErrors of bad arguments
and files) as one line on stderr and exits with code 2.
"""


class AugMixError(Exception):
    """Base of the errors augmix raises on purpose."""


class DownloadError(AugMixError, RuntimeError):
    """A file could not be fetched after every retry, or its checksum did not match."""


class TrainingError(AugMixError, RuntimeError):
    """A training run cannot go on (e.g. distributed replicas diverged)."""
