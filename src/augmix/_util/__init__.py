"""Infrastructure every layer may use: atomic writes, downloads, argument checks, the error class."""
